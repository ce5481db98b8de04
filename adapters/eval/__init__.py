"""The scenario harness of `helpdesk-bot eval`: scripted users drive the engine as a channel
does."""
