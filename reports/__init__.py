"""Damage reports: residents report on LINE (a guided flow inside the bot), staff take reports by phone
and triage them on `/reports` (list and map), public hashtag posts on Mastodon and Bluesky are collected
as reports to confirm. Sits between `bot` (whose conversation hook and LINE adapter it uses) and
`notifier` (whose workers run its hashtag collection)."""
