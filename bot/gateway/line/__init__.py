"""The LINE channel: webhook, Messaging API client, and message building (line-bot-sdk v3)."""
