"""An independent local Valethon Helpdesk for demos and tests (imports nothing of the bot)."""
