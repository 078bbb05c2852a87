"""Local fake servers for LINE, X, Facebook, Mastodon and Bluesky.

They follow each platform's official paths, headers and JSON shapes, record every call, and can be
told to fail (status codes, timeouts, slow answers) so tests, demos and benchmarks exercise the real
SDK clients over real HTTP. See `fakes.fake_server` for the shared machinery.
"""
