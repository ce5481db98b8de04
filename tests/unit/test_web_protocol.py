"""The widget's edge rules as pure code: frames, the 4 KB cap, rate limits, origins, cookies."""

from __future__ import annotations

import pytest

from adapters.web.app import demo_widget_base, render_demo_page
from adapters.web.protocol import (
    ActionFrame,
    BadFrame,
    HelloFrame,
    MessageFrame,
    OriginPolicy,
    PingFrame,
    RateLimiter,
    check_message_size,
    normalize_origin,
    parse_client_frame,
)
from adapters.web.session import conversation_tag, session_cookie

CID = "abcdefgh1234"


def test_well_formed_frames_parse() -> None:
    assert parse_client_frame('{"type":"hello","last_seq":7}') == HelloFrame(
        type="hello", last_seq=7
    )
    assert parse_client_frame('{"type":"ping"}') == PingFrame(type="ping")
    message = parse_client_frame(f'{{"type":"message","client_id":"{CID}","text":"hi"}}')
    assert message == MessageFrame(type="message", client_id=CID, text="hi")
    action = parse_client_frame(
        f'{{"type":"action","client_id":"{CID}","action_id":"confirm:x","value":null}}'
    )
    assert action == ActionFrame(type="action", client_id=CID, action_id="confirm:x")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "nope",
        "[]",
        '"text"',
        '{"type":"hello","last_seq":-1}',
        '{"type":"message","client_id":"short","text":"hi"}',
        '{"type":"message","client_id":"has spaces in it","text":"hi"}',
        f'{{"type":"message","client_id":"{CID}"}}',
        f'{{"type":"message","client_id":"{CID}","text":""}}',
        f'{{"type":"message","client_id":"{CID}","text":"hi","admin":true}}',
        f'{{"type":"action","client_id":"{CID}"}}',
        '{"type":"shout"}',
        "{}",
    ],
)
def test_malformed_frames_are_reported_not_raised(raw: str) -> None:
    result = parse_client_frame(raw)

    assert isinstance(result, BadFrame)
    assert "ignored" in result.text


def test_the_cap_counts_utf8_bytes_not_characters() -> None:
    def message(text: str) -> MessageFrame:
        return MessageFrame(type="message", client_id=CID, text=text)

    assert check_message_size(message("a" * 4096)) is None
    assert check_message_size(message("é" * 2048)) is None
    rejected = check_message_size(message("é" * 2049))
    assert rejected is not None and rejected.reason == "too_large" and rejected.client_id == CID


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_limit_is_a_sliding_window_per_key() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=20, window_s=60, clock=clock)

    for index in range(20):
        clock.now += 1
        assert limiter.check("jane", token=f"m{index}") is None
    assert limiter.check("jane", token="m20") == pytest.approx(41.0)
    assert limiter.check("mike", token="m20") is None  # another user has their own budget
    assert limiter.check("jane", token="m5") is None  # a resend is not counted twice
    clock.now += 41.0  # the first message leaves the window
    assert limiter.check("jane", token="m20") is None
    assert limiter.check("jane", token="m21") is not None


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("HTTPS://Bot.Example:443/widget", "https://bot.example"),
        ("http://bot.example:80", "http://bot.example"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("ftp://bot.example", None),
        ("null", None),
        ("http://", None),
    ],
)
def test_origins_are_normalized_as_browsers_send_them(url: str, origin: str | None) -> None:
    assert normalize_origin(url) == origin


def test_the_origin_policy() -> None:
    policy = OriginPolicy.from_settings(
        "http://127.0.0.1:8080", ["https://portal.example/", "not a url"]
    )

    assert policy.allows("http://127.0.0.1:8080")
    assert policy.allows("https://portal.example")
    assert policy.allows(None)  # not a browser: no cookie-riding page behind it
    assert not policy.allows("null")
    assert not policy.allows("http://portal.example")
    assert not policy.allows("https://portal.example.evil.example")
    assert not policy.allows("http://localhost:8080")
    assert policy.allows("http://localhost:8080", request_origin="http://localhost:8080")
    assert not policy.allows("http://evil.example", request_origin="http://localhost:8080")
    assert policy.frame_ancestors() == "'self' http://127.0.0.1:8080 https://portal.example"


def test_session_cookies_by_scheme() -> None:
    plain = session_cookie("v4lue", secure=False, max_age=60).split("; ")
    assert plain == ["helpdesk_widget=v4lue", "Path=/", "Max-Age=60", "HttpOnly", "SameSite=Lax"]
    secure = session_cookie("v4lue", secure=True, max_age=60).split("; ")
    assert secure[0] == "__Host-helpdesk_widget=v4lue"
    assert {"HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/"} <= set(secure)


def test_conversation_tags_are_stable_and_opaque() -> None:
    assert conversation_tag("web:abc") == conversation_tag("web:abc")
    assert conversation_tag("web:abc") != conversation_tag("web:abd")
    assert "abc" not in conversation_tag("web:abc")


@pytest.mark.parametrize(
    ("public", "here", "base"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080", "http://localhost:8080", "http://localhost:8080"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:41234", "http://127.0.0.1:41234"),
        ("https://bot.example", "http://10.0.0.5:8080", "https://bot.example"),
    ],
)
def test_the_demo_loads_the_widget_from_a_url_that_reaches_this_server(
    public: str, here: str, base: str
) -> None:
    assert demo_widget_base(public, here) == base


def test_the_demo_page_escapes_what_it_shows() -> None:
    page = render_demo_page(
        tenant="<Acme & Co>",
        public_url="https://bot.example",
        script_base="https://bot.example",
        console_url=None,
        accounts=[("jane@acme.example", "demo-jane", "<employee>")],
    )

    assert "&lt;Acme &amp; Co&gt;" in page and "<Acme" not in page
    assert "&lt;employee&gt;" in page
    assert '<script src="https://bot.example/widget.js" async></script>' in page
    assert "console" not in page
