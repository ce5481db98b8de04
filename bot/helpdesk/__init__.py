"""The Valethon Helpdesk API v1 client and its models.

Import the client and credentials from here; the error tree is in ``bot.helpdesk.errors``
and the response models in ``bot.helpdesk.models``.
"""

from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.credentials import TokensRefreshed, UserAuth

__all__ = ["HelpdeskClient", "TokensRefreshed", "UserAuth"]
