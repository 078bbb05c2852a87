"""One module per channel behind one small interface (`notifier.channels.base.Channel`).

The registry lives in `notifier.channels.registry`. This package imports nothing, so
`notifier.channels.base` (which the bot's LINE adapter imports) never pulls the channel modules in.
"""
