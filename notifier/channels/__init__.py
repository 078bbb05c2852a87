"""One module per channel behind one small interface (see `notifier.channels.base`)."""
