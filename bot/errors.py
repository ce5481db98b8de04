"""BotError, the core's one exception root: what an adapter catches instead of `Exception`.

Every error the core raises on purpose derives from `BotError`; each package keeps its own
tree (and its names) below it, documented where it is raised::

    BotError
    ├── HelpdeskError          bot.helpdesk.errors — the Helpdesk API client's tree
    │    ├── HelpdeskUnavailable
    │    │    └── OutcomeUnknown
    │    ├── RateLimited
    │    ├── AuthError
    │    │    └── ReauthRequired
    │    ├── PermissionDenied
    │    ├── NotFound
    │    ├── ValidationFailed
    │    │    └── Conflict
    │    ├── ServerError
    │    └── MalformedResponse
    ├── ModelError             bot.llm — the chat-model seam's tree
    │    ├── ModelTimeout
    │    ├── ModelRateLimited
    │    ├── ModelUnavailable
    │    ├── ModelBadResponse
    │    └── ModelConfigError
    ├── ModelGaveUp            bot.agent_loop — every model attempt of a turn failed
    ├── StoreError             bot.store.errors — the store's tree
    │    ├── LockTimeout
    │    ├── InvalidTransition
    │    ├── NotFound
    │    └── MigrationError
    ├── LinkError              bot.linking — an account-link token that cannot be used
    ├── ToolArgumentsError     bot.tooling — the model's arguments fail a tool's schema
    ├── PreviewError           bot.tooling — a proposed write cannot be shown for confirm
    └── PromptError            bot.prompts — a prompt file or placeholder is missing

Foreign exceptions (httpx, SQLAlchemy driver errors, vendor SDKs) are translated at the
boundary that meets them, or — for database driver failures — left to the operator's logs.
"""

from __future__ import annotations

__all__ = ["BotError"]


class BotError(Exception):
    """Base class of every error the conversation core raises on purpose."""
