"""`/metrics` end to end: a scripted widget conversation moves the counts by what happened.

Real app, real engine and store, the sandbox helpdesk and its stand-in model over HTTP; the
widget is driven over its WebSocket as a page does. `/metrics` is scraped over HTTP and read
with prometheus_client's own text parser; every expected change is checked against what the
sandbox itself logged (model requests and their token counts, helpdesk API requests).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDict
from prometheus_client.parser import text_string_to_metric_families

from adapters.compose import build_services
from adapters.observability import METRICS, scrape_refusal
from adapters.server import create_app
from bot import metrics
from bot.confirmations import expire_unanswered
from bot.deflection import settle_quiet_conversations
from bot.linking import Linked
from bot.messages import Inbound, Reply
from sandbox.runner import RunningSandbox
from tests.contract.test_web_support import (
    Frame,
    WebApp,
    open_web_app,
    press,
    say,
    settings_for,
    turn,
)

VPN = "My VPN keeps disconnecting, how do I fix it?"
TICKET = "Please open a ticket: my VPN keeps disconnecting every 10 minutes"
TOKEN = "scrape-me-0123456789"
PRICE_IN, PRICE_OUT = 0.4, 1.6  # USD per 1k tokens

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the samples called `name` whose labels include `labels` moved."""

    def total(samples: Samples) -> float:
        wanted = set(labels.items())
        return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))

    return total(after) - total(before)


def of_type(frames: list[Frame], kind: str) -> list[Frame]:
    return [f for f in frames if f["type"] == kind]


@pytest.fixture
async def app(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[WebApp]:
    settings = settings_for(
        sandbox,
        tmp_path,
        metrics_token=TOKEN,
        llm_price_input_per_1k=PRICE_IN,
        llm_price_output_per_1k=PRICE_OUT,
    )
    async with open_web_app(sandbox, settings) as web_app:
        yield web_app


async def scrape(app: WebApp) -> Samples:
    response = await app.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(await response.text())


async def sandbox_logs(app: WebApp) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(model requests, helpdesk API requests) the sandbox logged."""
    base = app.sandbox.base_url
    model = (await app.http.get(f"{base}/sandbox/model/requests")).json()["requests"]
    helpdesk = (await app.http.get(f"{base}/sandbox/requests")).json()["requests"]
    return model, helpdesk


async def clear_sandbox_logs(app: WebApp) -> None:
    base = app.sandbox.base_url
    for path in ("/sandbox/model/requests", "/sandbox/requests"):
        (await app.http.delete(f"{base}{path}")).raise_for_status()


async def test_a_scripted_conversation_moves_every_count_by_what_happened(app: WebApp) -> None:
    await app.sign_in()
    ws = await app.connect()
    await clear_sandbox_logs(app)
    before = await scrape(app)

    question = say(VPN)
    answered = await turn(ws, question)  # search_kb, then an answer with 👍/👎
    [answer] = of_type(answered, "message")
    thumbs = {a["value"]: a for a in answer["actions"] if a["kind"] == "feedback"}
    await turn(ws, press(thumbs["up"]["id"], "up"))
    proposed = await turn(ws, say(TICKET))  # a confirm card, nothing written yet
    [card] = of_type(proposed, "confirm")
    confirm = next(a for a in card["actions"] if a["label"] == "Confirm")
    confirmed = await turn(ws, press(confirm["id"]))
    assert any("Created ticket" in f.get("text", "") for f in confirmed)
    await turn(ws, question)  # the page resends a message it already sent: answered from store

    model_log, helpdesk_log = await sandbox_logs(app)
    after = await scrape(app)

    # Turns: five frames, each one turn on the web channel, named by what it produced.
    assert moved(before, after, "helpdesk_bot_turns_total", channel="web") == 5
    assert moved(before, after, "helpdesk_bot_turns_total", outcome="answered") == 2
    assert moved(before, after, "helpdesk_bot_turns_total", outcome="confirm_requested") == 1
    assert moved(before, after, "helpdesk_bot_turns_total", outcome="replayed") == 1
    assert moved(before, after, "helpdesk_bot_turn_seconds_count", channel="web") == 5
    assert moved(before, after, "helpdesk_bot_dedupe_hits_total", source="message") == 1
    assert moved(before, after, "helpdesk_bot_feedback_total", value="up") == 1

    # Model: every request the sandbox served, and exactly the tokens it reported.
    model = {"model": "sandbox-stand-in"}
    assert model_log and len(model_log) < 500  # the sandbox's log kept every request
    requests = moved(before, after, "helpdesk_bot_model_requests_total", outcome="ok", **model)
    assert requests == len(model_log)
    tokens_in = sum(entry["input_tokens_est"] for entry in model_log)
    tokens_out = sum(entry["completion_tokens"] for entry in model_log)
    direction = "helpdesk_bot_model_tokens_total"
    assert moved(before, after, direction, direction="input", **model) == tokens_in
    assert moved(before, after, direction, direction="output", **model) == tokens_out
    cost = moved(before, after, "helpdesk_bot_model_cost_usd_total", **model)
    assert cost == pytest.approx((tokens_in * PRICE_IN + tokens_out * PRICE_OUT) / 1000)

    # Tools: what the model called, as the sandbox saw the calls.
    called = Counter(call["name"] for entry in model_log for call in entry["tool_calls"])
    assert called["search_kb"] >= 1 and called["create_ticket"] == 1
    for name, count in called.items():
        assert moved(before, after, "helpdesk_bot_tool_calls_total", tool=name) == count
    ticket = {"tool": "create_ticket"}
    assert moved(before, after, "helpdesk_bot_tool_calls_total", outcome="proposed", **ticket) == 1
    assert moved(before, after, "helpdesk_bot_confirms_total", result="proposed", **ticket) == 1
    assert moved(before, after, "helpdesk_bot_confirms_total", result="confirmed", **ticket) == 1

    # Helpdesk: one observation per request the sandbox logged, by path template.
    attempts = "helpdesk_bot_helpdesk_request_seconds_count"
    assert moved(before, after, attempts) == len(helpdesk_log)
    posts = [row for row in helpdesk_log if row["method"] == "POST" and row["path"] == "/tickets"]
    assert moved(before, after, attempts, method="POST", endpoint="/tickets") == len(posts) == 1
    mirrored = [r for r in helpdesk_log if r["method"] == "POST" and r["path"].startswith("/chat/")]
    assert mirrored  # every user message is mirrored into the helpdesk chat session
    chat_endpoints = {dict(ls)["endpoint"] for (n, ls) in after if n == attempts}
    assert "/chat/{id}/messages" in chat_endpoints
    assert not any(ch.isdigit() for endpoint in chat_endpoints for ch in endpoint)


async def test_a_quiet_conversation_is_counted_once_by_how_it_ended(app: WebApp) -> None:
    await app.sign_in()
    ws = await app.connect()
    answered = await turn(ws, say(VPN))
    [answer] = of_type(answered, "message")
    up = next(a for a in answer["actions"] if a["value"] == "up")
    await turn(ws, press(up["id"], "up"))
    before = await scrape(app)

    later = datetime.now(UTC) + timedelta(hours=1)
    store, registry = app.services.store, app.client.app[METRICS]
    first = await settle_quiet_conversations(store, quiet_for_s=1800, now=later, into=registry)
    again = await settle_quiet_conversations(store, quiet_for_s=1800, now=later, into=registry)

    after = await scrape(app)
    assert first == {"confirmed": 1} and again == {}
    settled = "helpdesk_bot_conversations_settled_total"
    assert moved(before, after, settled, outcome="confirmed") == 1
    assert moved(before, after, settled) == 1


async def test_an_unanswered_confirm_expires_and_the_quiet_conversation_is_assumed(
    app: WebApp,
) -> None:
    await app.sign_in()
    ws = await app.connect()
    await turn(ws, say(VPN))
    [card] = of_type(await turn(ws, say(TICKET)), "confirm")  # never answered
    before = await scrape(app)

    later = datetime.now(UTC) + timedelta(hours=1)
    bound = metrics.bind(app.client.app[METRICS])  # as the server's maintenance task is
    try:
        expired = await expire_unanswered(app.services.store, now=later)
        await settle_quiet_conversations(app.services.store, quiet_for_s=1800, now=later)
    finally:
        metrics.reset(bound)

    after = await scrape(app)
    assert [action.id for action in expired] == [card["actions"][0]["id"].split(":", 1)[1]]
    confirms = "helpdesk_bot_confirms_total"
    assert moved(before, after, confirms, tool="create_ticket", result="expired") == 1
    assert moved(before, after, confirms) == 1
    settled = "helpdesk_bot_conversations_settled_total"
    assert moved(before, after, settled, outcome="assumed") == moved(before, after, settled) == 1


async def test_two_apps_in_one_process_count_only_their_own_turns(
    app: WebApp, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    settings = settings_for(sandbox, other_dir, metrics_token=TOKEN)
    async with open_web_app(sandbox, settings) as other:
        before, other_before = await scrape(app), await scrape(other)
        await app.sign_in()
        await turn(await app.connect(), say(VPN))

        after, other_after = await scrape(app), await scrape(other)

    assert moved(before, after, "helpdesk_bot_turns_total") == 1
    assert moved(before, after, "helpdesk_bot_model_requests_total") >= 1
    for name in ("turns_total", "model_requests_total", "helpdesk_request_seconds_count"):
        assert moved(other_before, other_after, f"helpdesk_bot_{name}") == 0, name


async def test_without_the_token_the_metrics_are_refused(app: WebApp) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = await app.client.get("/metrics", headers=headers)
        assert response.status == 401
        assert "helpdesk_bot" not in await response.text()
    assert (await app.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).ok


async def test_without_a_token_only_a_direct_loopback_peer_may_scrape(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with open_web_app(sandbox, settings_for(sandbox, tmp_path)) as web_app:
        response = await web_app.client.get("/metrics")  # the test client is on 127.0.0.1
        assert response.status == 200
        assert "helpdesk_bot_turns_total" in await response.text()
        proxied = await web_app.client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status == 403
        assert "helpdesk_bot" not in await proxied.text()


@pytest.mark.parametrize(
    ("remote", "headers", "token", "status"),
    [
        ("127.0.0.1", {}, None, None),
        ("::1", {}, None, None),
        ("10.0.0.7", {}, None, 403),
        ("203.0.113.9", {}, None, 403),
        (None, {}, None, 403),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}, None, 403),
        ("10.0.0.7", {"Authorization": f"Bearer {TOKEN}"}, TOKEN, None),
        ("127.0.0.1", {}, TOKEN, 401),  # with a token, loopback is not enough
        ("10.0.0.7", {"Authorization": f"bearer {TOKEN}"}, TOKEN, None),
        ("10.0.0.7", {"Authorization": f"Basic {TOKEN}"}, TOKEN, 401),
    ],
)
def test_who_may_scrape(
    remote: str | None, headers: Mapping[str, str], token: str | None, status: int | None
) -> None:
    refusal = scrape_refusal(remote=remote, headers=CIMultiDict(headers), token=token)
    assert (refusal.status if refusal is not None else None) == status


class StartsAtStartup:
    """A channel that, like Slack's Socket Mode client, starts its work while the app starts."""

    name = "startup-probe"

    def __init__(self) -> None:
        self.seen: list[metrics.Metrics] = []

    def mount(self, app: web.Application) -> None:
        async def start(_: web.Application) -> None:
            self.seen.append(metrics.current())

        app.on_startup.append(start)

    async def deliver(self, conversation_key: str, reply: Reply) -> bool:
        return False

    async def on_linked(self, linked: Linked) -> None:
        return None

    async def sign_in_url(self, inbound: Inbound, message_id: int) -> str | None:
        return None


async def test_work_started_with_the_app_records_into_it_and_nothing_leaks_out(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    probe = StartsAtStartup()
    outside = metrics.current()
    async with build_services(settings_for(sandbox, tmp_path), model_stream_delay_s=0) as s:
        app = create_app(s, channels=[lambda _services, _tasks: probe])
        async with TestClient(TestServer(app)):
            assert probe.seen == [app[METRICS]]
            assert metrics.current() is outside  # the test's own context is untouched
