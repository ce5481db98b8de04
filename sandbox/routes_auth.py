"""Sandbox API handlers for authentication, OAuth provider discovery and the user's profile."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from sandbox.auth import (
    SESSION_COOKIE,
    check_credentials,
    hash_password,
    issue_access_token,
    issue_refresh_token,
    load_user,
    note_user,
    optional_user,
    presented_token,
    require_user,
    revoke_access_token,
    revoke_refresh_token,
    user_for_refresh_token,
    verify_password,
)
from sandbox.state import state_of
from sandbox.validation import ApiError, read_json_object, required_text, text_field, wrapped

OAUTH_PROVIDERS = [
    {"key": "google", "name": "Google", "icon": "google", "color": "#4285F4"},
    {"key": "microsoft", "name": "Microsoft", "icon": "microsoft", "color": "#00A4EF"},
]
_KNOWN_PROVIDERS = ("google", "microsoft", "apple")
_AUTHORIZE_URLS = {
    "google": "https://accounts.google.com/o/oauth2/v2/auth",
    "microsoft": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
}

routes = web.RouteTableDef()


@routes.post("/auth/login")
async def login(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    username = required_text(data, "username", max_len=320)
    password = text_field(data, "password", required=True, max_len=1000, strip=False)
    assert password is not None
    state = state_of(request)
    user = check_credentials(state, username, password)
    if user is None:
        raise ApiError(401, "Invalid username or password")
    note_user(request, user)
    access = issue_access_token(state, user)
    response = web.json_response(
        {
            "success": True,
            "access_token": access,
            "refresh_token": issue_refresh_token(state, user),
            "token_type": "Bearer",
            "expires_in": state.config.access_ttl,
            "user": user.summary(),
        }
    )
    response.set_cookie(
        SESSION_COOKIE,
        access,
        httponly=True,
        samesite="Lax",
        max_age=state.config.access_ttl,
        path="/",
    )
    return response


@routes.post("/auth/refresh")
async def refresh(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    token = text_field(data, "refresh_token", required=True, max_len=1000, strip=False)
    assert token is not None
    state = state_of(request)
    user = user_for_refresh_token(state, token)
    if user is None:
        raise ApiError(401, "Invalid or expired refresh token")
    note_user(request, user)
    return web.json_response(
        {
            "success": True,
            "access_token": issue_access_token(state, user),
            "token_type": "Bearer",
            "expires_in": state.config.access_ttl,
        }
    )


@routes.get("/auth/status")
async def status(request: web.Request) -> web.Response:
    user = optional_user(request)
    return web.json_response(
        {"authenticated": user is not None, "user": user.summary() if user else None}
    )


@routes.post("/auth/logout")
async def logout(request: web.Request) -> web.Response:
    data = await read_json_object(request, optional=True)
    token = text_field(data, "refresh_token", required=False, max_len=1000, strip=False)
    state = state_of(request)
    if token:
        revoke_refresh_token(state, token)
    access = presented_token(request)
    if access:
        optional_user(request)  # for the request log, before the token stops working
        revoke_access_token(state, access)
    response = web.json_response({"success": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/auth/oauth/providers")
async def oauth_providers(request: web.Request) -> web.Response:
    return web.json_response({"success": True, "providers": OAUTH_PROVIDERS})


@routes.get("/auth/oauth/url")
async def oauth_url(request: web.Request) -> web.Response:
    provider = request.query.get("provider", "")
    if provider not in _KNOWN_PROVIDERS:
        raise ApiError(400, "provider must be one of: google, microsoft, apple")
    if provider not in _AUTHORIZE_URLS:
        raise ApiError(400, f"provider {provider} is not enabled")
    redirect_uri = request.query.get("redirect_uri") or f"{request.url.origin()}/oauth/callback"
    try:
        redirect_uri.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ApiError(400, "redirect_uri must be valid Unicode text") from exc
    if len(redirect_uri) > 2000:
        raise ApiError(400, "redirect_uri must be at most 2000 characters")
    query = urlencode(
        {
            "client_id": "valethon-helpdesk-sandbox",
            "response_type": "code",
            "scope": "openid email profile",
            "redirect_uri": redirect_uri,
            "state": "sandbox",
        }
    )
    return wrapped({"provider": provider, "url": f"{_AUTHORIZE_URLS[provider]}?{query}"})


@routes.get("/profile")
async def get_profile(request: web.Request) -> web.Response:
    return web.json_response(require_user(request).profile())


@routes.put("/profile")
async def put_profile(request: web.Request) -> web.Response:
    user = require_user(request)
    data = await read_json_object(request)
    fields = {
        name: value
        for name in ("first_name", "last_name", "phone")
        if (value := text_field(data, name, required=False, max_len=100)) is not None
    }
    if not fields:
        raise ApiError(400, "Provide at least one of first_name, last_name, phone")
    state = state_of(request)
    state.db.update("users", "employee_number", user.employee_number, fields)
    updated = load_user(state, user.employee_number)
    assert updated is not None
    return wrapped(updated.profile())


@routes.post("/profile/password")
async def change_password(request: web.Request) -> web.Response:
    user = require_user(request)
    data = await read_json_object(request)
    current = text_field(data, "current_password", required=True, max_len=1000, strip=False)
    new = text_field(data, "new_password", required=True, max_len=1000, strip=False, min_len=8)
    assert current is not None and new is not None
    state = state_of(request)
    row = state.db.one(
        "SELECT password_hash FROM users WHERE employee_number = ?", (user.employee_number,)
    )
    if row is None or not verify_password(current, row["password_hash"]):
        raise ApiError(400, "current_password is incorrect")
    state.db.update(
        "users", "employee_number", user.employee_number, {"password_hash": hash_password(new)}
    )
    return web.json_response({"success": True})
