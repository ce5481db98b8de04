"""Channels and the process: the CLI, the server and every chat channel."""
