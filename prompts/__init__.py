"""Prompt text (Markdown files); loaded by bot.prompts. No code lives here."""
