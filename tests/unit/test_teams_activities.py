"""Pure parsing of Teams activities: what is ignored, mention stripping, which reply chain
is the conversation, dedupe keys, card presses, invokes and the loopback rule."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.teams.activities import (
    CardAction,
    ExtensionFetch,
    ExtensionSubmit,
    Ignored,
    MembersAdded,
    TeamsAddress,
    UnknownInvoke,
    UserMessage,
    address_of,
    is_loopback,
    parse_activity,
    strip_mentions,
)
from adapters.teams.forms import parse_ticket_form

BOT = "28:bot-app"


def activity(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message",
        "id": "1700000000001",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "channelId": "msteams",
        "from": {"id": "29:jane", "name": "Jane", "aadObjectId": "aad-jane"},
        "conversation": {"id": "a:1chat", "conversationType": "personal", "tenantId": "t1"},
        "recipient": {"id": BOT, "name": "IT Helpdesk"},
        "text": "hello",
    }
    return body | extra


def test_a_personal_message_is_keyed_by_its_conversation_and_aad_user() -> None:
    parsed = parse_activity(activity())
    assert isinstance(parsed, UserMessage)
    assert parsed.text == "hello"
    assert parsed.address.conversation_key == "a:1chat"
    assert parsed.address.user_key == "teams:aad-jane"
    assert parsed.address.streams
    assert parsed.dedupe_key == "activity:a:1chat:1700000000001"


def test_a_user_without_an_aad_id_is_keyed_by_the_bot_framework_id() -> None:
    parsed = parse_activity(activity(**{"from": {"id": "29:emulator", "name": "User"}}))
    assert isinstance(parsed, UserMessage) and parsed.address.user_key == "teams:29:emulator"


def test_a_new_channel_post_roots_its_own_reply_chain_and_a_reply_keeps_it() -> None:
    channel = {"id": "19:x@thread.tacv2", "conversationType": "channel", "tenantId": "t1"}
    root = parse_activity(activity(conversation=channel, id="111"))
    assert isinstance(root, UserMessage)
    assert root.address.conversation_key == "19:x@thread.tacv2;messageid=111"
    assert not root.address.streams
    reply = parse_activity(
        activity(conversation=channel | {"id": "19:x@thread.tacv2;messageid=111"}, id="222")
    )
    assert isinstance(reply, UserMessage)
    assert reply.address.conversation_key == root.address.conversation_key
    assert reply.dedupe_key == "activity:19:x@thread.tacv2:222"


def test_the_bots_mention_is_stripped_and_other_mentions_keep_their_names() -> None:
    entities = [
        {"type": "mention", "text": "<at>IT Helpdesk</at>", "mentioned": {"id": BOT}},
        {"type": "mention", "text": "<at>Sam</at>", "mentioned": {"id": "29:sam"}},
    ]
    text = "<at>IT Helpdesk</at> can you help <at>Sam</at>&nbsp;with VPN?"
    assert strip_mentions(text, bot_id=BOT, entities=entities) == "can you help Sam with VPN?"


def test_a_mention_of_the_bare_app_id_is_the_bot_too() -> None:
    entities = [{"type": "mention", "text": "<at>Bot</at>", "mentioned": {"id": "bot-app"}}]
    assert strip_mentions("<at>Bot</at> hi", bot_id=BOT, entities=entities) == "hi"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"from": {"id": BOT}}, "own"),
        ({"from": {"id": "28:other", "role": "bot"}}, "bot"),
        ({"text": "  <p>&nbsp;</p> "}, "no text"),
        ({"type": "messageReaction"}, "activity type"),
        ({"serviceUrl": None}, "serviceUrl"),
    ],
)
def test_what_is_ignored(extra: dict[str, Any], reason: str) -> None:
    parsed = parse_activity(activity(**extra))
    assert isinstance(parsed, Ignored) and reason in parsed.reason


def test_an_action_submit_is_a_card_press_deduplicated_by_its_card() -> None:
    data = {"hb": "confirm:abc", "t": "New ticket"}
    first = parse_activity(activity(id="1", value=data, replyToId="card-1", text=None))
    second = parse_activity(activity(id="2", value=data | {"hb": "cancel:abc"}, replyToId="card-1"))
    assert isinstance(first, CardAction) and isinstance(second, CardAction)
    assert (first.kind, first.card_id, first.invoke) == ("confirm", "card-1", False)
    assert first.dedupe_key == second.dedupe_key  # Confirm then Cancel: one acts


def test_feedback_and_each_approval_on_a_card_are_claimed_separately() -> None:
    def press(action_id: str) -> str:
        parsed = parse_activity(activity(value={"hb": action_id}, replyToId="card-9"))
        assert isinstance(parsed, CardAction)
        return parsed.dedupe_key

    assert press("feedback:12") != press("confirm:x")
    assert press("approve:3018") != press("approve:3019")
    assert press("approve:3018") == press("reject:3018")


def test_a_universal_action_invoke_carries_verb_and_data() -> None:
    value = {"action": {"type": "Action.Execute", "verb": "confirm:abc", "data": {"t": "x"}}}
    parsed = parse_activity(activity(type="invoke", name="adaptiveCard/action", value=value))
    assert isinstance(parsed, CardAction) and parsed.invoke
    assert parsed.action_id == "confirm:abc" and parsed.data["t"] == "x"
    other = parse_activity(activity(type="invoke", name="signin/verifyState", value={}))
    assert isinstance(other, UnknownInvoke)


def test_the_message_action_fetch_and_submit() -> None:
    payload = {"body": {"contentType": "html", "content": "<p>Printer<br>jams</p>"}}
    fetch = parse_activity(
        activity(
            type="invoke",
            name="composeExtension/fetchTask",
            value={"commandId": "createTicket", "messagePayload": payload},
        )
    )
    assert isinstance(fetch, ExtensionFetch) and fetch.message_text == "Printer\njams"
    submit = parse_activity(
        activity(
            type="invoke",
            name="composeExtension/submitAction",
            value={"commandId": "createTicket", "data": {"subject": "s"}},
        )
    )
    assert isinstance(submit, ExtensionSubmit) and submit.data == {"subject": "s"}


def test_members_added_welcomes_only_when_the_bot_or_a_personal_chat_is_joined() -> None:
    added = parse_activity(
        activity(type="conversationUpdate", membersAdded=[{"id": BOT}], text=None)
    )
    assert isinstance(added, MembersAdded) and added.bot_added
    team = {"id": "19:team@thread.tacv2", "conversationType": "channel"}
    people = parse_activity(
        activity(type="conversationUpdate", conversation=team, membersAdded=[{"id": "29:new"}])
    )
    assert isinstance(people, Ignored)
    welcome_in_team = parse_activity(
        activity(type="conversationUpdate", conversation=team, membersAdded=[{"id": BOT}])
    )
    assert isinstance(welcome_in_team, MembersAdded)
    assert welcome_in_team.address.conversation_id == "19:team@thread.tacv2"  # no reply chain


def test_an_address_survives_the_store_and_gives_a_conversation_reference() -> None:
    address = address_of(activity())
    assert address is not None
    restored = TeamsAddress.from_dict(address.with_upn("jane@acme.example").to_dict())
    assert restored is not None and restored.upn == "jane@acme.example"
    reference = restored.reference()
    assert reference["conversation"]["id"] == "a:1chat"
    assert reference["user"]["aadObjectId"] == "aad-jane"
    assert reference["bot"]["id"] == BOT and reference["activityId"] == "1700000000001"
    assert TeamsAddress.from_dict({"kind": "personal"}) is None


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:5000/", True),
        ("http://localhost:3978", True),
        ("http://[::1]:9000/", True),
        ("https://smba.trafficmanager.net/amer/", False),
        ("http://127.0.0.1.nip.io/", False),
        ("ftp://127.0.0.1/", False),
        ("not a url", False),
    ],
)
def test_loopback_service_urls(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_the_ticket_form_is_checked_and_becomes_tool_arguments() -> None:
    form = parse_ticket_form(
        {"subject": "  Printer   jams ", "description": "x", "job_type": "Hardware"}
    )
    assert form.errors == {}
    assert form.arguments() == {
        "subject": "Printer jams",
        "description": "x",
        "job_type": "Hardware",
    }
    assert set(parse_ticket_form({}).errors) == {"subject", "description"}
