"""Teams conversations over the wire: the welcome, channel mentions in their reply chain,
sign-in for the unlinked, streaming in personal chats, the relay's proactive sends through
the stored conversation reference, and backoff on 429."""

from __future__ import annotations

from typing import Any

from bot.linking import Linked
from tests.contract.test_teams_http import (
    BOT_ID,
    CHANNEL_CONV,
    PERSONAL,
    TeamsHarness,
    activity,
    teams_fixture,  # noqa: F401 - the `teams` fixture
)
from tests.fakes.bot_connector import card_actions, card_contents

VPN = "My VPN keeps disconnecting, how do I fix it?"


def mention(text: str) -> dict[str, Any]:
    return {
        "type": "mention",
        "text": "<at>IT Helpdesk</at>",
        "mentioned": {"id": BOT_ID, "name": "IT Helpdesk"},
    }


async def test_installing_the_app_is_welcomed_with_what_it_can_do(teams: TeamsHarness) -> None:
    update = activity(
        teams.connector,
        kind="conversationUpdate",
        membersAdded=[{"id": BOT_ID}, {"id": "29:jane", "aadObjectId": "aad-jane"}],
    )
    assert (await teams.post(update)).status_code == 201
    assert (await teams.post(update)).status_code == 201  # redelivered
    [welcome] = await teams.replies(PERSONAL)
    assert "knowledge base" in welcome["text"] and "ticket" in welcome["text"]
    await teams.settle()
    assert len(teams.connector.messages(PERSONAL)) == 1
    # The reference is stored, so the relay can reach this chat before anyone writes.
    stored = await teams.services.desk.find_conversation("teams", PERSONAL)
    assert stored is not None and stored.address is not None
    assert stored.address["service_url"] == teams.connector.service_url


async def test_a_channel_mention_is_stripped_and_answered_in_its_reply_chain(
    teams: TeamsHarness,
) -> None:
    await teams.link()
    post = activity(
        teams.connector,
        text=f"<at>IT Helpdesk</at> {VPN}",
        conversation=CHANNEL_CONV,
        conversation_type="channel",
        entities=[mention("IT Helpdesk")],
    )
    post["textFormat"] = "xml"
    assert (await teams.post(post)).status_code == 201
    thread = f"{CHANNEL_CONV};messageid={post['id']}"
    [answer] = await teams.replies(thread)
    assert "vpn" in answer["text"].lower()
    await teams.settle()
    conversation = await teams.services.desk.find_conversation("teams", thread)
    assert conversation is not None
    stored = await teams.services.desk.recent_messages(conversation.id, limit=50)
    [question] = [m for m in stored if m.role == "user"]
    assert question.content == VPN  # no "<at>IT Helpdesk</at>" reached the engine
    # Channels do not stream: no streaminfo steps, only typing and the message.
    kinds = {(r.body or {}).get("type") for r in teams.connector.calls("POST")}
    assert kinds <= {"typing", "message"}
    assert all(not (r.body or {}).get("entities") for r in teams.connector.calls("POST"))


async def test_an_unlinked_user_gets_a_sign_in_card_and_is_answered_after_linking(
    teams: TeamsHarness,
) -> None:
    await teams.say(VPN)
    [card_message] = await teams.replies(PERSONAL)
    [card] = card_contents(card_message)
    [button] = card_actions(card)
    assert button["type"] == "Action.OpenUrl" and "/link/" in button["url"]
    await teams.settle()
    # The link names the Teams user by AAD object id; signing in answers the question.
    claim = teams.services.links.inspect(button["url"].rsplit("/", 1)[1])
    assert claim.user_key == "teams:aad-jane" and claim.conversation_key == PERSONAL
    stored = await teams.services.desk.find_conversation("teams", PERSONAL)
    assert stored is not None and stored.address["upn"] == "jane@acme.example"
    user = await teams.services.identities.link_with_password(
        "teams", claim.user_key, username="jane@acme.example", password="demo-jane"
    )
    await teams.services.links.announce(Linked(claim=claim, helpdesk_name=user.display_name))
    messages = await teams.replies(PERSONAL, count=3)
    assert "linked as" in messages[1]["text"]
    assert "vpn" in messages[2]["text"].lower()
    await teams.settle()
    # The link is keyed by the AAD object id and keeps the UPN beside it.
    identity = await teams.services.store.get_identity("teams", "teams:aad-jane")
    assert identity is not None and identity.channel_login == "jane@acme.example"


async def test_a_linked_users_upn_is_kept_with_the_link_on_their_first_message(
    teams: TeamsHarness,
) -> None:
    await teams.link()
    before = await teams.services.store.get_identity("teams", "teams:aad-jane")
    assert before is not None and before.channel_login is None
    teams.connector.upns["29:jane"] = "jane.doe@acme.example"
    await teams.say(VPN)
    await teams.replies(PERSONAL)
    await teams.settle()
    after = await teams.services.store.get_identity("teams", "teams:aad-jane")
    assert after is not None and after.channel_login == "jane.doe@acme.example"


async def test_in_a_channel_the_sign_in_link_goes_to_the_personal_chat(teams: TeamsHarness) -> None:
    post = activity(
        teams.connector,
        text=f"<at>IT Helpdesk</at> {VPN}",
        conversation=CHANNEL_CONV,
        conversation_type="channel",
        entities=[mention("IT Helpdesk")],
    )
    await teams.post(post)
    thread = f"{CHANNEL_CONV};messageid={post['id']}"
    [notice] = await teams.replies(thread)
    assert "personal chat" in notice["text"] and "/link/" not in str(notice)
    [private] = teams.connector.messages("a:personal-29:jane")
    assert "/link/" in str(card_contents(private))


async def test_a_personal_answer_streams_with_streaminfo_and_ends_in_one_message(
    teams: TeamsHarness,
) -> None:
    await teams.link()
    await teams.say(VPN)
    [answer] = await teams.replies(PERSONAL)
    await teams.settle()
    steps = [r.body for r in teams.connector.calls("POST") if r.body and r.body.get("entities")]
    infos = [next(e for e in b["entities"] if e["type"] == "streaminfo") for b in steps]
    assert infos and infos[-1]["streamType"] == "final"
    assert all(b["type"] == "typing" for b in steps[:-1]) and steps[-1]["type"] == "message"
    stream_id = answer["id"]
    assert all(info["streamId"] == stream_id for info in infos[1:])
    sequences = [info["streamSequence"] for info in infos[:-1]]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)


async def test_rate_limited_sends_are_retried_after_retry_after(teams: TeamsHarness) -> None:
    await teams.link()
    teams.connector.fail("POST", status=429, times=2, retry_after=0, kind="message")
    post = activity(
        teams.connector,
        text=VPN,
        conversation=CHANNEL_CONV,
        conversation_type="channel",
    )
    await teams.post(post)
    [answer] = await teams.replies(f"{CHANNEL_CONV};messageid={post['id']}")
    assert "vpn" in answer["text"].lower()
    statuses = [r.status for r in teams.connector.calls("POST", kind="message")]
    assert statuses == [429, 429, 201]  # Teams did not act on a 429: sent again, once


async def test_a_new_message_is_not_repeated_after_a_gateway_timeout(teams: TeamsHarness) -> None:
    await teams.link()
    thread_post = activity(
        teams.connector,
        text="hello",
        conversation=CHANNEL_CONV,
        conversation_type="channel",
        entities=[],
    )
    await teams.post(thread_post)
    await teams.settle()
    thread = f"{CHANNEL_CONV};messageid={thread_post['id']}"
    before = len(teams.connector.messages(thread))
    teams.connector.fail("POST", status=504, times=5, kind="message")
    teams.connector.fail("POST", status=502, times=1, kind="typing")
    again = activity(
        teams.connector,
        text=VPN,
        conversation=thread,
        conversation_type="channel",
    )
    await teams.post(again)
    await teams.settle()
    # The typing indicator is repeated; a message whose outcome is unknown is not.
    typing = [r.status for r in teams.connector.calls("POST", kind="typing")][-2:]
    assert typing == [502, 201]
    answers = [
        r
        for r in teams.connector.calls("POST", kind="message")
        if "vpn" in str((r.body or {}).get("text")).lower()
    ]
    assert [r.status for r in answers] == [504]
    assert len(teams.connector.messages(thread)) == before


async def test_an_agents_reply_is_sent_proactively_through_the_stored_reference(
    teams: TeamsHarness,
) -> None:
    await teams.link()
    press = activity(teams.connector, value={"hb": "talk_to_human"})
    await teams.post(press)
    await teams.replies(PERSONAL)
    await teams.settle()
    conversation = await teams.services.desk.find_conversation("teams", PERSONAL)
    assert conversation is not None and conversation.helpdesk_chat_id is not None
    posted = await teams.http.post(
        f"{teams.sandbox.base_url}/sandbox/chats/{conversation.helpdesk_chat_id}/agent-messages",
        json={"message": "Hi Jane, I'm looking at your VPN now.", "agent_name": "Alex"},
    )
    assert posted.status_code == 201

    def relayed() -> list[dict[str, Any]] | None:
        found = [
            m
            for m in teams.connector.messages(PERSONAL)
            if "looking at your VPN" in m.get("text", "")
        ]
        return found or None

    [message] = await teams.connector.wait_for(relayed, within=30)
    assert "Alex" in message["text"]
    assert message["recipient"]["id"] == "29:jane" and message["conversation"]["id"] == PERSONAL
