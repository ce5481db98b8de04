"""The Slack channel: Bolt app, events, assistant threads, `/helpdesk`, App Home, the relay's
sender, and the pure parsing and rendering they use."""
