"""The helpdesk's own words for a ticket's priority and status, as every channel shows them.

Channel packages may not import each other; the words they share live here (the sentences
themselves are in `prompts/replies/`, so a deployer rewords them in one place).
"""

from __future__ import annotations

from bot import prompts


def priorities() -> dict[int, str]:
    """The helpdesk's priorities (1 = critical … 5 = lowest) as the user reads them."""
    return {
        1: prompts.reply("channel_priority_critical"),
        2: prompts.reply("channel_priority_high"),
        3: prompts.reply("channel_priority_medium"),
        4: prompts.reply("channel_priority_low"),
        5: prompts.reply("channel_priority_lowest"),
    }


def statuses() -> dict[str, str]:
    """A ticket's status as the user reads it."""
    return {
        "open": prompts.reply("channel_status_open"),
        "in_progress": prompts.reply("channel_status_in_progress"),
        "on_hold": prompts.reply("channel_status_on_hold"),
        "closed": prompts.reply("channel_status_closed"),
    }
