"""The shipped Slack app manifest asks for what the adapter uses: the events it handles,
the scopes of the Web API methods it calls, one request URL for everything."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from adapters.slack.app import EVENTS_PATH

MANIFEST = Path(__file__).parents[2] / "adapters" / "slack" / "manifest.yaml"

# Web API methods the adapter calls → the bot scope each needs (https://docs.slack.dev/reference/methods).
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.startStream": "chat:write",
    "chat.appendStream": "chat:write",
    "chat.stopStream": "chat:write",
    "assistant.threads.setStatus": "assistant:write",
    "assistant.threads.setSuggestedPrompts": "assistant:write",
    "assistant.threads.setTitle": "assistant:write",
    "conversations.open": "im:write",
    "conversations.replies": "im:history",
}
# Events the adapter's listeners handle → the scope each subscription needs.
EVENT_SCOPES = {
    "message.im": "im:history",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.mpim": "mpim:history",
    "app_mention": "app_mentions:read",
    "assistant_thread_started": "assistant:write",
    "assistant_thread_context_changed": "assistant:write",
    "app_home_opened": None,
}


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return data


def test_every_handled_event_is_subscribed_with_its_scope() -> None:
    data = manifest()
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    events = set(data["settings"]["event_subscriptions"]["bot_events"])
    assert events == set(EVENT_SCOPES)
    assert {scope for scope in EVENT_SCOPES.values() if scope} <= scopes


def test_every_called_method_is_covered_by_a_scope_and_nothing_more_is_asked() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    needed = set(METHOD_SCOPES.values()) | {s for s in EVENT_SCOPES.values() if s} | {"commands"}
    assert needed == scopes


def test_one_request_url_for_events_interactivity_and_the_command() -> None:
    data = manifest()
    urls = {
        data["settings"]["event_subscriptions"]["request_url"],
        data["settings"]["interactivity"]["request_url"],
        *(command["url"] for command in data["features"]["slash_commands"]),
    }
    assert len(urls) == 1 and urlsplit(urls.pop()).path == EVENTS_PATH
    [command] = data["features"]["slash_commands"]
    assert command["command"] == "/helpdesk"


def test_assistant_threads_and_app_home_are_enabled() -> None:
    features = manifest()["features"]
    assert features["assistant_view"]["assistant_description"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    assert len(manifest()["display_information"]["long_description"]) >= 174
