"""The notifier: scheduled posts to LINE and the SNS on a durable delivery ledger, and follower KPIs."""
