"""The Microsoft Teams channel (Bot Framework). Empty until the Teams issue lands here."""
