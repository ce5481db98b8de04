"""Account linking, shared by every channel: a one-time link signs a chat user in to the
helpdesk."""
