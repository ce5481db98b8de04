"""The Valethon Helpdesk API v1 client and its models."""
