"""One module per channel behind one small interface (`notifier.channels.channel_base.Channel`).

The registry lives in `notifier.channels.channel_registry`. This package imports nothing, so
`notifier.channels.channel_base` (which the bot's LINE adapter imports) never pulls the channel modules in.
"""
