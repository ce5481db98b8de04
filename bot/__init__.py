"""The conversation core: knows the Valethon Helpdesk, knows no channel."""
