"""The LINE bot: signed webhook, conversation, residents' topic and language settings."""
