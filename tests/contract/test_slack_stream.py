"""Streaming and posting against the fake Web API with the real `AsyncWebClient`: streams
rotate before Slack's size limit, continue after Slack cuts them off, fall back to a post;
a post whose answer was lost is looked up, never blindly sent twice."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.payloads import SlackAddress
from adapters.slack.render import Rendered
from adapters.slack.send import build_web_client, post_once
from adapters.slack.stream import MessageStream
from bot.settings import Settings
from tests.fakes.slack_api import BOT_TOKEN, LOST_ANSWER, LOST_REQUEST, TEAM_ID, SlackApiFake

THREAD = SlackAddress(TEAM_ID, "DU1", "1700000000.000001", "U1", "dm")
FOOTER = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "📄 <https://kb|KB>"}]}]


@pytest.fixture
async def fake() -> AsyncIterator[SlackApiFake]:
    async with SlackApiFake() as running:
        yield running


@pytest.fixture
async def client(fake: SlackApiFake) -> AsyncIterator[AsyncWebClient]:
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=fake.api_url.rstrip("/"))
    yield build_web_client(settings)


def shown(fake: SlackApiFake) -> list[str]:
    return [m.markdown for m in fake.thread(THREAD.channel, THREAD.thread_ts)]


async def stream(client: AsyncWebClient, pieces: list[str], **options: int) -> MessageStream:
    streamed = MessageStream(client, THREAD, key="k", **options)
    for piece in pieces:
        await streamed.append(piece)
    await streamed.stop(blocks=FOOTER)
    return streamed


async def test_text_is_sent_in_chunks_of_a_few_hundred_characters(
    fake: SlackApiFake, client: AsyncWebClient
) -> None:
    pieces = [f"token{n} " for n in range(200)]
    await stream(client, pieces)
    [message] = fake.thread(THREAD.channel, THREAD.thread_ts)
    assert message.markdown == "".join(pieces) and not message.streaming
    assert message.blocks == FOOTER
    sizes = [len(chunk) for chunk in message.chunks]
    assert len(sizes) >= 4 and max(sizes) < 400, sizes
    start = fake.calls_to("chat.startStream")[0].args
    assert (start["recipient_user_id"], start["recipient_team_id"]) == ("U1", TEAM_ID)


async def test_a_long_answer_moves_to_a_new_message_before_slacks_limit(
    fake: SlackApiFake, client: AsyncWebClient
) -> None:
    pieces = [f"part {n:03d}. " for n in range(60)]  # 600 characters
    await stream(client, pieces, max_chars=250, chunk_chars=40)
    texts = shown(fake)
    assert len(texts) >= 3 and all(len(text) <= 250 for text in texts)
    assert "".join(texts) == "".join(pieces)
    assert fake.thread(THREAD.channel, THREAD.thread_ts)[-1].blocks == FOOTER


async def test_a_stream_cut_off_twice_continues_without_losing_text(
    fake: SlackApiFake, client: AsyncWebClient
) -> None:
    fake.fail("chat.appendStream", error="message_not_in_streaming_state", skip=1, times=2)
    pieces = [f"sentence {n}. " for n in range(80)]
    await stream(client, pieces, chunk_chars=100)
    assert "".join(shown(fake)) == "".join(pieces)
    assert len(shown(fake)) == 3


async def test_a_stop_slack_refuses_posts_the_tail_with_the_footer(
    fake: SlackApiFake, client: AsyncWebClient
) -> None:
    fake.fail("chat.stopStream", error="message_not_in_streaming_state")
    pieces = ["The answer ", "ends ", "here."]
    await stream(client, pieces)
    posts = fake.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert "".join(shown(fake)) == "".join(pieces)
    assert fake.thread(THREAD.channel, THREAD.thread_ts)[-1].blocks[-1] == FOOTER[0]


async def test_a_post_whose_answer_was_lost_is_found_not_sent_again(
    fake: SlackApiFake, client: AsyncWebClient
) -> None:
    fake.fail("chat.postMessage", error=LOST_ANSWER)
    rendered = Rendered("hello", [{"type": "markdown", "text": "hello"}])
    ts = await post_once(
        client, channel=THREAD.channel, thread_ts=THREAD.thread_ts, rendered=rendered, key="r1"
    )
    assert ts is not None
    assert len(fake.calls_to("chat.postMessage", ok=None)) == 1  # looked up, not re-sent
    assert fake.calls_to("conversations.replies")[0].args["include_all_metadata"] in ("1", True)
    assert shown(fake) == ["hello"]


async def test_a_post_lost_before_slack_saw_it_is_sent_once_more(
    fake: SlackApiFake, client: AsyncWebClient
) -> None:
    fake.fail("chat.postMessage", error=LOST_REQUEST)
    rendered = Rendered("hello", [{"type": "markdown", "text": "hello"}])
    ts = await post_once(
        client, channel=THREAD.channel, thread_ts=THREAD.thread_ts, rendered=rendered, key="r2"
    )
    assert ts is not None
    assert len(fake.calls_to("chat.postMessage", ok=None)) == 2
    assert shown(fake) == ["hello"]


async def test_safe_calls_are_retried_after_a_dropped_connection(
    fake: SlackApiFake, client: AsyncWebClient
) -> None:
    fake.fail("assistant.threads.setStatus", error=LOST_REQUEST)
    await client.assistant_threads_setStatus(
        channel_id=THREAD.channel, thread_ts=THREAD.thread_ts, status="is thinking…"
    )
    assert [c.error for c in fake.calls_to("assistant.threads.setStatus", ok=None)] == [
        LOST_REQUEST,
        None,
    ]
