"""Pure Slack payload parsing: what is ignored, which thread is the conversation, dedupe keys,
action ids, commands and modal forms. No sockets."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.slack.modals import TicketForm, parse_ticket_form, view_values
from adapters.slack.payloads import (
    ButtonPress,
    Ignored,
    SlackAddress,
    UserMessage,
    clean_text,
    decode_action_id,
    encode_action_id,
    parse_assistant_thread_started,
    parse_button_press,
    parse_command,
    parse_mention_event,
    parse_message_event,
    split_user_key,
)

BOT = "UBOT"


def body(**event: Any) -> dict[str, Any]:
    base = {"type": "message", "user": "U1", "text": "hi", "ts": "100.1", "channel": "D1"}
    return {"team_id": "T1", "event_id": "Ev1", "event": base | event}


def test_a_top_level_dm_starts_a_thread_that_is_the_conversation() -> None:
    parsed = parse_message_event(body(channel_type="im"), bot_user_id=BOT)
    assert isinstance(parsed, UserMessage)
    assert parsed.address == SlackAddress("T1", "D1", "100.1", "U1", "dm")
    assert parsed.address.conversation_key == "T1:D1:100.1"
    assert parsed.address.user_key == "slack:T1:U1"
    assert parsed.dedupe_key == "msg:T1:D1:100.1"
    assert not parsed.in_thread


def test_a_reply_in_a_thread_belongs_to_the_thread() -> None:
    event = body(channel="C1", channel_type="channel", ts="105.2", thread_ts="100.1")
    parsed = parse_message_event(event, bot_user_id=BOT)
    assert isinstance(parsed, UserMessage)
    assert parsed.address.conversation_key == "T1:C1:100.1"
    assert parsed.in_thread and parsed.dedupe_key == "msg:T1:C1:105.2"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"subtype": "message_changed"}, "subtype message_changed"),
        ({"subtype": "message_deleted"}, "subtype message_deleted"),
        ({"subtype": "bot_message", "bot_id": "B2"}, "subtype bot_message"),
        ({"bot_id": "B2"}, "a bot's message"),
        ({"bot_id": "BBOT"}, "own message"),
        ({"user": BOT}, "own message"),
        ({"text": f"<@{BOT}>"}, "no text"),
        ({"channel_type": "channel"}, "channel message outside a thread"),
        (
            {"channel_type": "channel", "text": f"<@{BOT}> help"},
            "mention: answered from app_mention",
        ),
    ],
)
def test_what_is_not_a_person_asking_is_ignored(event: dict[str, Any], reason: str) -> None:
    parsed = parse_message_event(
        body(**({"channel_type": "im"} | event)), bot_user_id=BOT, bot_id="BBOT"
    )
    assert parsed == Ignored(reason)


def test_file_shares_and_thread_broadcasts_are_people_writing() -> None:
    for subtype in ("file_share", "thread_broadcast"):
        parsed = parse_message_event(body(channel_type="im", subtype=subtype), bot_user_id=BOT)
        assert isinstance(parsed, UserMessage), subtype


def test_a_mention_is_answered_in_its_thread_and_in_a_dm_as_a_dm() -> None:
    mention = body(type="app_mention", channel="C1", text=f"<@{BOT}> VPN down?")
    parsed = parse_mention_event(mention, bot_user_id=BOT)
    assert isinstance(parsed, UserMessage)
    assert parsed.text == "VPN down?" and parsed.address.kind == "channel"
    in_dm = parse_mention_event(body(type="app_mention", channel="D1"), bot_user_id=BOT)
    assert isinstance(in_dm, UserMessage) and in_dm.address.kind == "dm"


def test_slack_markup_becomes_what_the_person_typed() -> None:
    text = (
        f"<@{BOT}> see <https://x.example/a|the guide> and <https://y.example> "
        "cc <@U2|jane> in <#C9|it-help> &lt;now&gt; &amp; <!here>"
    )
    assert clean_text(text, bot_user_id=BOT) == (
        "see the guide (https://x.example/a) and https://y.example cc @jane in #it-help "
        "<now> & @here"
    )
    assert clean_text("line one\nline two", bot_user_id=BOT) == "line one\nline two"


def test_assistant_thread_started() -> None:
    started = parse_assistant_thread_started(
        {
            "team_id": "T1",
            "event_id": "Ev9",
            "event": {
                "type": "assistant_thread_started",
                "assistant_thread": {"user_id": "U1", "channel_id": "D1", "thread_ts": "9.9"},
            },
        }
    )
    assert not isinstance(started, Ignored)
    assert started.address == SlackAddress("T1", "D1", "9.9", "U1", "assistant")
    assert parse_assistant_thread_started({"event": {}}) == Ignored("no assistant_thread")


def test_action_ids_are_unique_in_a_message_and_decode_to_the_engines() -> None:
    assert encode_action_id("feedback:12", 0) != encode_action_id("feedback:12", 1)
    assert decode_action_id(encode_action_id("confirm:ab#c", 3)) == "confirm:ab#c"
    assert decode_action_id("talk_to_human") == "talk_to_human"


def press_body(**extra: Any) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1", "team_id": "T1"},
        "trigger_id": "tr",
        "container": {"type": "message", "channel_id": "D1", "message_ts": "5.5"},
        "message": {"ts": "5.5", "thread_ts": "1.1", "blocks": [{"type": "section"}]},
        "actions": [{"action_id": "confirm:p1#0", "value": None, "type": "button"}],
    } | extra


def test_a_button_press_names_its_conversation_and_dedupes_per_message() -> None:
    press = parse_button_press(press_body())
    assert isinstance(press, ButtonPress)
    assert press.action_id == "confirm:p1" and press.kind == "confirm"
    address = press.address(kind="dm")
    assert address is not None and address.conversation_key == "T1:D1:1.1"
    again = parse_button_press(press_body())
    assert isinstance(again, ButtonPress) and again.dedupe_key == press.dedupe_key
    other = press_body(container={"channel_id": "D1", "message_ts": "6.6"})
    assert isinstance(p := parse_button_press(other), ButtonPress)
    assert p.dedupe_key != press.dedupe_key


def test_thumbs_down_after_thumbs_up_is_another_click() -> None:
    up = press_body(actions=[{"action_id": "feedback:3#0", "value": "up"}])
    down = press_body(actions=[{"action_id": "feedback:3#1", "value": "down"}])
    first, second = parse_button_press(up), parse_button_press(down)
    assert isinstance(first, ButtonPress) and isinstance(second, ButtonPress)
    assert first.dedupe_key != second.dedupe_key


def test_a_press_on_app_home_has_no_conversation_but_a_view_key() -> None:
    press = parse_button_press(
        press_body(container={"type": "view", "view_id": "VH1"}, message=None, view={"id": "VH1"})
    )
    assert isinstance(press, ButtonPress)
    assert press.address(kind="dm") is None
    assert "view:VH1" in press.dedupe_key


@pytest.mark.parametrize(
    ("text", "name", "argument"),
    [
        ("", "help", ""),
        ("help", "help", ""),
        ("tickets", "tickets", ""),
        ("TICKETS", "tickets", ""),
        ("ticket 3018", "ticket", "3018"),
        ("ticket #3018", "ticket", "3018"),
        ("ticket", "tickets", ""),
        ("ticket abc", "help", "ticket abc"),
        ("new", "new", ""),
        ("outages", "outages", ""),
        ("status", "outages", ""),
        ("link", "link", ""),
        ("unlink", "unlink", ""),
        ("human", "human", ""),
        ("frobnicate now", "help", "frobnicate now"),
    ],
)
def test_subcommands(text: str, name: str, argument: str) -> None:
    command = parse_command(text)
    assert (command.name, command.argument) == (name, argument)


def test_the_ticket_form_reads_inputs_and_selects() -> None:
    view = {
        "state": {
            "values": {
                "subject": {"subject": {"type": "plain_text_input", "value": " Dock "}},
                "description": {"description": {"type": "plain_text_input", "value": "dead"}},
                "priority": {"priority": {"selected_option": {"value": "2"}}},
                "job_type": {"job_type": {"selected_option": None}},
            }
        }
    }
    values = view_values(view)
    assert values == {"subject": "Dock", "description": "dead", "priority": "2"}
    form = parse_ticket_form(values)
    assert form == TicketForm("Dock", "dead", 2, None)
    assert isinstance(form, TicketForm)
    assert form.arguments() == {"subject": "Dock", "description": "dead", "priority": 2}


def test_a_ticket_form_with_gaps_names_the_fields_to_fix() -> None:
    assert parse_ticket_form({"priority": "9"}) == {
        "subject": "Please give the ticket a subject.",
        "description": "Please describe the problem.",
        "priority": "Choose a priority from the list.",
    }


def test_user_keys_round_trip() -> None:
    assert split_user_key("slack:T1:U1") == ("T1", "U1")
    assert split_user_key("teams:x:y") is None
    assert SlackAddress.from_dict({"kind": "dm"}) is None
    address = SlackAddress("T1", "D1", "1.1", "U1", "assistant")
    assert SlackAddress.from_dict(address.to_dict()) == address
