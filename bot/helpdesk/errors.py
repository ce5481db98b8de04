"""The Helpdesk client's exception tree: every failure a caller can see, typed and with context.

Nothing else escapes the client: httpx errors, JSON decoding errors and pydantic validation
errors are translated at the boundary (``raise ... from exc``), so callers catch these only.

    HelpdeskError (a BotError)       status, method, path, error (the API's "error" text)
     ├── HelpdeskUnavailable         connect errors, timeouts, 502/503/504 after retries; on
     │    │                          its own it means the write did NOT happen (never sent,
     │    │                          or refused with 503 before the server acted)
     │    └── OutcomeUnknown         a non-idempotent request may have reached the server
     │                               (read timeout, dropped connection, 502/504): the
     │                               write may or may not have happened, and was NOT retried
     ├── RateLimited                 429 (retry_after: seconds, when the server said)
     ├── AuthError                   401 (bad credentials, rejected refresh token, ...)
     │    └── ReauthRequired         the user's session cannot be renewed (user_key)
     ├── PermissionDenied            403, including "module disabled"
     ├── NotFound                    404 (also ids of another company or another user)
     ├── ValidationFailed            400/413/422 (message) — the request was rejected
     │    └── Conflict               409, e.g. approving a ticket that is not pending
     ├── ServerError                 500 and other 5xx: the server answered that it failed
     └── MalformedResponse           a success status whose body is not the documented shape

``HelpdeskError`` itself is raised for any other status the API does not document (3xx, 405).
Messages never contain tokens or request bodies; ``error`` is the API's own text.
"""

from __future__ import annotations

from bot.errors import BotError

__all__ = [
    "AuthError",
    "Conflict",
    "HelpdeskError",
    "HelpdeskUnavailable",
    "MalformedResponse",
    "NotFound",
    "OutcomeUnknown",
    "PermissionDenied",
    "RateLimited",
    "ReauthRequired",
    "ServerError",
    "ValidationFailed",
    "error_for_status",
]


class HelpdeskError(BotError):
    """A Helpdesk API call failed; ``status`` is None when no response was received."""

    def __init__(
        self,
        summary: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        error: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.error = error
        where = f"{method} {path}" + (f" -> {status}" if status is not None else "")
        super().__init__(f"{summary} ({where})" + (f": {error}" if error else ""))


class HelpdeskUnavailable(HelpdeskError):
    """The Helpdesk could not be reached or stayed overloaded for the whole retry budget."""


class OutcomeUnknown(HelpdeskUnavailable):
    """A write may have reached the server but no answer came back; it was not retried."""


class RateLimited(HelpdeskError):
    """429: the server refused the request; ``retry_after`` is its advice in seconds."""

    def __init__(
        self,
        summary: str,
        *,
        method: str,
        path: str,
        status: int | None = 429,
        error: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(summary, method=method, path=path, status=status, error=error)
        self.retry_after = retry_after


class AuthError(HelpdeskError):
    """401: credentials or token missing, wrong, expired or revoked."""


class ReauthRequired(AuthError):
    """The user's access token was rejected and could not be refreshed: they must log in."""

    def __init__(
        self,
        summary: str,
        *,
        user_key: str,
        method: str,
        path: str,
        status: int | None = 401,
        error: str | None = None,
    ) -> None:
        super().__init__(summary, method=method, path=path, status=status, error=error)
        self.user_key = user_key


class PermissionDenied(HelpdeskError):
    """403: the user lacks the permission, or the company lacks the module."""


class NotFound(HelpdeskError):
    """404: no such object visible to this user."""


class ValidationFailed(HelpdeskError):
    """The API rejected the request's content; ``message`` says why, fit to show a user."""

    def __init__(
        self,
        summary: str,
        *,
        method: str,
        path: str,
        status: int | None = 400,
        error: str | None = None,
    ) -> None:
        super().__init__(summary, method=method, path=path, status=status, error=error)
        self.message = error or summary


class Conflict(ValidationFailed):
    """409: the object is not in a state that allows this (``ticket_number`` if the API said)."""

    def __init__(
        self,
        summary: str,
        *,
        method: str,
        path: str,
        status: int | None = 409,
        error: str | None = None,
        ticket_number: int | None = None,
    ) -> None:
        super().__init__(summary, method=method, path=path, status=status, error=error)
        self.ticket_number = ticket_number


class ServerError(HelpdeskError):
    """500 or another 5xx that is not retried: the server says the request failed."""


class MalformedResponse(HelpdeskError):
    """A success status with a body that is not JSON or not the documented shape."""


_SIMPLE: dict[int, tuple[type[HelpdeskError], str]] = {
    400: (ValidationFailed, "Request rejected"),
    401: (AuthError, "Not authenticated"),
    403: (PermissionDenied, "Permission denied"),
    404: (NotFound, "Not found"),
    413: (ValidationFailed, "Request too large"),
    422: (ValidationFailed, "Request rejected"),
    502: (HelpdeskUnavailable, "Helpdesk unavailable"),
    503: (HelpdeskUnavailable, "Helpdesk unavailable"),
    504: (HelpdeskUnavailable, "Helpdesk unavailable"),
}


def error_for_status(
    status: int,
    *,
    method: str,
    path: str,
    error: str | None,
    retry_after: float | None = None,
    ticket_number: int | None = None,
) -> HelpdeskError:
    """Build the exception for a final (not retried) error response."""
    if status == 429:
        return RateLimited(
            "Rate limited",
            method=method,
            path=path,
            status=status,
            error=error,
            retry_after=retry_after,
        )
    if status == 409:
        return Conflict(
            "Conflict",
            method=method,
            path=path,
            status=status,
            error=error,
            ticket_number=ticket_number,
        )
    if status in _SIMPLE:
        cls, summary = _SIMPLE[status]
    elif status >= 500:
        cls, summary = ServerError, "Helpdesk server error"
    else:
        cls, summary = HelpdeskError, "Unexpected response"
    return cls(summary, method=method, path=path, status=status, error=error)
