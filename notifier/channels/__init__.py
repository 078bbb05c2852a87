"""One module per channel behind one small interface (`notifier.channels.channel_base.Channel`).

The registry lives in `notifier.channels.channel_registry`. This package imports nothing, so importing
`channel_base` never pulls the channel modules (and their SDKs) in.
"""
