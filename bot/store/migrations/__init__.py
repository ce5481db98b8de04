"""Alembic migrations of the store (a package so that they ship with bot.store)."""
