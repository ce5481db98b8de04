"""Request parsing for the sandbox API: JSON bodies, fields, query parameters, pagination.

Every failure raises `ApiError`, which the app's error middleware turns into
`{"error": "..."}` with the status it carries, so no input can reach a 500.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from sandbox.db import MAX_ID, parse_iso

MAX_BODY_BYTES = 1024 * 1024
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")


class ApiError(Exception):
    """An error answer: HTTP status, the `error` text and optional extra body fields."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra or {}
        self.headers = headers or {}


def error_response(
    status: int,
    message: str,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.json_response({"error": message, **(extra or {})}, status=status, headers=headers)


def wrapped(data: Any, *, status: int = 200) -> web.Response:
    """The `{"success": true, "data": ...}` success shape."""
    return web.json_response({"success": True, "data": data}, status=status)


def _check_text(value: str, name: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ApiError(400, f"{name} must be valid Unicode text") from exc
    return value


async def read_json_object(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """Parse the body as a JSON object; an empty body is `{}` when `optional`."""
    raw = await request.read()  # raises HTTPRequestEntityTooLarge over client_max_size
    if not raw.strip():
        if optional:
            return {}
        raise ApiError(400, "Request body must be a JSON object")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "Malformed JSON in request body") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return data


def text_field(
    data: dict[str, Any],
    name: str,
    *,
    required: bool,
    max_len: int,
    min_len: int = 1,
    strip: bool = True,
) -> str | None:
    """A string field of `min_len..max_len` characters (after stripping); None when absent."""
    if name not in data or data[name] is None:
        if required:
            raise ApiError(400, f"{name} is required")
        return None
    value = data[name]
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string")
    value = _check_text(value.strip() if strip else value, name)
    if len(value) < min_len:
        message = "must not be empty" if min_len == 1 else f"must be at least {min_len} characters"
        raise ApiError(400, f"{name} {message}")
    if len(value) > max_len:
        raise ApiError(400, f"{name} must be at most {max_len} characters")
    return value


def required_text(data: dict[str, Any], name: str, *, max_len: int, min_len: int = 1) -> str:
    value = text_field(data, name, required=True, max_len=max_len, min_len=min_len)
    assert value is not None
    return value


def int_field(data: dict[str, Any], name: str, *, low: int, high: int) -> int | None:
    """An integer field in `low..high`; None when absent. Booleans and floats are refused."""
    if name not in data or data[name] is None:
        return None
    value = data[name]
    if type(value) is not int:
        raise ApiError(400, f"{name} must be an integer")
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}")
    return value


def bool_field(data: dict[str, Any], name: str) -> bool | None:
    if name not in data or data[name] is None:
        return None
    value = data[name]
    if not isinstance(value, bool):
        raise ApiError(400, f"{name} must be a boolean")
    return value


def choice_field(data: dict[str, Any], name: str, choices: Sequence[str]) -> str | None:
    value = text_field(data, name, required=False, max_len=200)
    if value is not None and value not in choices:
        raise ApiError(400, f"{name} must be one of: {', '.join(choices)}")
    return value


def query_text(request: web.Request, name: str, *, max_len: int = 500) -> str | None:
    """A query parameter as text; None when absent or empty."""
    value = request.query.get(name)
    if value is None or value == "":
        return None
    _check_text(value, name)
    if len(value) > max_len:
        raise ApiError(400, f"{name} must be at most {max_len} characters")
    return value


def query_choice(
    request: web.Request, name: str, choices: Sequence[str], *, default: str | None = None
) -> str | None:
    value = query_text(request, name)
    if value is None:
        return default
    if value not in choices:
        raise ApiError(400, f"{name} must be one of: {', '.join(choices)}")
    return value


def query_bool(request: web.Request, name: str) -> bool | None:
    value = query_text(request, name)
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ApiError(400, f"{name} must be true or false")


def query_int(request: web.Request, name: str, *, default: int, low: int, high: int) -> int:
    value = query_text(request, name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError as exc:
        raise ApiError(400, f"{name} must be an integer") from exc
    if not low <= number <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}")
    return number


def query_since(request: web.Request, name: str = "since") -> str | None:
    value = query_text(request, name, max_len=100)
    if value is None:
        return None
    try:
        return parse_iso(value)
    except ValueError as exc:
        raise ApiError(400, f"{name} must be an ISO-8601 timestamp") from exc


def path_id(request: web.Request, name: str) -> int:
    """An integer id from the path; ids that cannot exist are 404 like unknown ones."""
    try:
        value = int(request.match_info[name])
    except (KeyError, ValueError) as exc:
        raise ApiError(404, f"{name} not found") from exc
    if not 0 < value <= MAX_ID:
        raise ApiError(404, f"{name} not found")
    return value


@dataclass(frozen=True)
class Page:
    """A requested page: number and size, with the name the size travels under."""

    page: int
    size: int
    size_name: str

    def slice(self, rows: list[T]) -> list[T]:
        start = (self.page - 1) * self.size
        return rows[start : start + self.size]

    def meta(self, total: int) -> dict[str, int]:
        return {
            "page": self.page,
            self.size_name: self.size,
            "total": total,
            "total_pages": math.ceil(total / self.size) if total else 0,
        }


def page_params(request: web.Request, *, size_name: str) -> Page:
    """Parse `page` and `limit`/`per_page`: page >= 1, size 1..100 (default 20)."""
    page = query_int(request, "page", default=1, low=1, high=MAX_ID)
    size = query_int(request, size_name, default=DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    return Page(page=page, size=size, size_name=size_name)
