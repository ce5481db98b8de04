"""The terminal channel of `helpdesk-bot chat`."""
