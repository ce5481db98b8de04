"""Credentials of the sandbox: password hashes, JWT access tokens, refresh tokens, the caller.

Access tokens are HS256 JWTs signed with a secret made per instance; every issued `jti` is
recorded so that logout and the back office's expire endpoint can revoke them. Refresh
tokens are opaque random strings stored only as SHA-256 hashes.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web

from sandbox.state import USER_EMAIL, SandboxState, state_of
from sandbox.validation import ApiError

SESSION_COOKIE = "hd_session"
REFRESH_TTL = 30 * 24 * 3600
_PBKDF2_ROUNDS = 20_000


@functools.lru_cache(maxsize=64)
def hash_password(password: str) -> str:
    """A salted PBKDF2 hash (cached: reseeding hashes the same demo passwords again)."""
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), _PBKDF2_ROUNDS)
    return f"pbkdf2_sha256${_PBKDF2_ROUNDS}${salt}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, rounds, salt, expected = stored.split("$")
        digest = hashlib.pbkdf2_hmac(
            "sha256", password.encode("utf-8"), bytes.fromhex(salt), int(rounds)
        )
    except (ValueError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(digest.hex(), expected)


@dataclass(frozen=True)
class User:
    """An authenticated helpdesk user with the company context every query is scoped to."""

    employee_number: int
    company_number: int
    company_name: str
    site_number: int | None
    site_name: str | None
    email: str
    first_name: str
    last_name: str
    phone: str | None
    department: str | None
    manager: int | None
    can_create_tickets: bool
    asset_edit: str
    ismgr: bool
    it_privileges: bool
    billing_enabled: bool

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def summary(self) -> dict[str, Any]:
        """The short user object of login and /auth/status."""
        return {
            "employee_number": self.employee_number,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "company_name": self.company_name,
        }

    def profile(self) -> dict[str, Any]:
        return {
            "employee_number": self.employee_number,
            "company_number": self.company_number,
            "site_number": self.site_number,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "department": self.department,
            "company_name": self.company_name,
            "site_name": self.site_name,
            "permissions": {
                "can_create_tickets": self.can_create_tickets,
                "can_view_assets": self.asset_edit != "None",
                "can_view_billing": self.billing_enabled,
                "asset_edit": self.asset_edit,
                "ismgr": self.ismgr,
                "it_privileges": self.it_privileges,
            },
        }


_USER_SQL = """
SELECT u.*, c.name AS company_name, c.billing_enabled, s.name AS site_name
FROM users u JOIN companies c ON c.company_number = u.company_number
LEFT JOIN sites s ON s.site_number = u.site_number
"""


def _user_from_row(row: dict[str, Any]) -> User:
    return User(
        employee_number=row["employee_number"],
        company_number=row["company_number"],
        company_name=row["company_name"],
        site_number=row["site_number"],
        site_name=row["site_name"],
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        phone=row["phone"],
        department=row["department"],
        manager=row["manager"],
        can_create_tickets=bool(row["can_create_tickets"]),
        asset_edit=row["asset_edit"],
        ismgr=bool(row["ismgr"]),
        it_privileges=bool(row["it_privileges"]),
        billing_enabled=bool(row["billing_enabled"]),
    )


def load_user(state: SandboxState, employee_number: int) -> User | None:
    row = state.db.one(_USER_SQL + " WHERE u.employee_number = ?", (employee_number,))
    return _user_from_row(row) if row else None


def check_credentials(state: SandboxState, email: str, password: str) -> User | None:
    row = state.db.one(_USER_SQL + " WHERE lower(u.email) = lower(?)", (email.strip(),))
    if row is None or not verify_password(password, row["password_hash"]):
        return None
    return _user_from_row(row)


def issue_access_token(state: SandboxState, user: User) -> str:
    now = int(time.time())
    jti = secrets.token_hex(16)
    claims = {
        "sub": str(user.employee_number),
        "cid": user.company_number,
        "iat": now,
        "exp": now + state.config.access_ttl,
        "jti": jti,
        "typ": "access",
    }
    state.db.insert("access_tokens", {"jti": jti, "employee_number": user.employee_number})
    return jwt.encode(claims, state.jwt_secret, algorithm="HS256")


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def issue_refresh_token(state: SandboxState, user: User) -> str:
    token = secrets.token_urlsafe(32)
    state.db.insert(
        "refresh_tokens",
        {
            "token_hash": _hash_refresh(token),
            "employee_number": user.employee_number,
            "expires_at": time.time() + REFRESH_TTL,
        },
    )
    return token


def user_for_refresh_token(state: SandboxState, token: str) -> User | None:
    row = state.db.one(
        "SELECT employee_number FROM refresh_tokens WHERE token_hash = ? AND revoked = 0 "
        "AND expires_at > ?",
        (_hash_refresh(token), time.time()),
    )
    return load_user(state, row["employee_number"]) if row else None


def revoke_refresh_token(state: SandboxState, token: str) -> None:
    state.db.run(
        "UPDATE refresh_tokens SET revoked = 1 WHERE token_hash = ?", (_hash_refresh(token),)
    )


def expire_user_tokens(state: SandboxState, employee_number: int, *, refresh: bool) -> None:
    """Invalidate every access token issued so far (and the refresh tokens if asked)."""
    state.db.run(
        "UPDATE access_tokens SET revoked = 1 WHERE employee_number = ?", (employee_number,)
    )
    if refresh:
        state.db.run(
            "UPDATE refresh_tokens SET revoked = 1 WHERE employee_number = ?", (employee_number,)
        )


def presented_token(request: web.Request) -> str | None:
    """The bearer token, else the session cookie; None when neither is sent."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""
    return request.cookies.get(SESSION_COOKIE)


def decode_access_token(state: SandboxState, token: str) -> dict[str, Any] | None:
    """Valid, unrevoked claims of an access token, or None."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            state.jwt_secret,
            algorithms=["HS256"],
            options={"require": ["sub", "cid", "exp", "jti"]},
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if claims.get("typ") != "access" or not isinstance(claims.get("jti"), str):
        return None
    row = state.db.one("SELECT revoked FROM access_tokens WHERE jti = ?", (claims["jti"],))
    if row is None or row["revoked"]:
        return None
    return claims


def revoke_access_token(state: SandboxState, token: str) -> None:
    claims = decode_access_token(state, token)
    if claims is not None:
        state.db.run("UPDATE access_tokens SET revoked = 1 WHERE jti = ?", (claims["jti"],))


@dataclass(frozen=True)
class _Caller:
    user: User | None


_CALLER: web.RequestKey[_Caller] = web.RequestKey("sandbox_caller", _Caller)


def optional_user(request: web.Request) -> User | None:
    """The caller if they present a valid token; records their email for the request log."""
    if _CALLER in request:
        return request[_CALLER].user
    state = state_of(request)
    token = presented_token(request)
    user = None
    if token:
        claims = decode_access_token(state, token)
        if claims is not None:
            try:
                user = load_user(state, int(claims["sub"]))
            except (TypeError, ValueError):
                user = None
    if user is not None:
        note_user(request, user)
    request[_CALLER] = _Caller(user)
    return user


def require_user(request: web.Request) -> User:
    user = optional_user(request)
    if user is None:
        challenge = {"WWW-Authenticate": 'Bearer realm="helpdesk"'}
        if presented_token(request) is None:
            raise ApiError(401, "Authentication required", headers=challenge)
        raise ApiError(401, "Invalid or expired access token", headers=challenge)
    return user


def note_user(request: web.Request, user: User) -> None:
    request[USER_EMAIL] = user.email
