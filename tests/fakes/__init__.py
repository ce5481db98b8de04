"""Test doubles for the systems the bot talks to: each speaks its system's real format."""
