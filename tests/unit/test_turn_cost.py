"""What a turn costs: schemas built once, summaries folded in chunks, one transaction for a
turn's replies after the inbound, and only the tools that can work in the turn.

The real `Engine` over a real SQLite store, the doubles of `tests.unit.engine_doubles`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import BaseModel
from sqlalchemy.event import listen, remove

from bot.config import EngineConfig
from bot.context import KEEP_AFTER_FOLD, message_tokens, tools_tokens
from bot.engine import Engine
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.credentials import UserAuth
from bot.helpdesk.errors import HelpdeskUnavailable
from bot.helpdesk.models import ChatMessage, ChatSession
from bot.llm import ModelResponse
from bot.messages import Inbound, Message
from bot.store.store import Store
from bot.tooling import (
    ToolRegistry,
    ToolSpec,
)
from tests.fakes.scripted_model import Reply as Step
from tests.fakes.scripted_model import ScriptedChatModel, tool_call
from tests.unit.engine_doubles import (
    USER_KEY,
    ChatDouble,
    Directory,
    NoteArgs,
    Tools,
    bench_fixture,  # noqa: F401 - the `bench` fixture
    only,
    propose,
    store_fixture,  # noqa: F401 - the `store` fixture (a SQLite file in tmp_path)
)


async def test_tool_schemas_are_built_once_not_per_request(
    bench: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[type[BaseModel]] = []
    generate = NoteArgs.model_json_schema

    def counting(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append(NoteArgs)
        return generate(*args, **kwargs)

    monkeypatch.setattr(NoteArgs, "model_json_schema", counting)
    b = bench(Step(text="one"), Step(text="two"), Step(text="three"))
    for text in ("hello", "and again", "once more"):
        await b.say(text)

    offered = [[tool.name for tool in request.tools] for request in b.model.requests]
    assert offered == [["file_note", "hand_off"]] * 3
    assert len(built) == 1, "the schema is generated when the tool is declared, then reused"
    [note] = [t for t in b.model.requests[0].tools if t.name == "file_note"]
    assert "title" not in note.parameters["properties"]["text"], "generated titles are dropped"


@dataclass
class AnsweringModel:
    """Answers every request at once: a ~150-word reply, or a summary for a tool-less side
    call; records the requests (a 60-turn script would be unreadable)."""

    requests: list[Any] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "answering"

    async def stream(self, request: Any) -> AsyncIterator[Any]:
        self.requests.append(request)
        text = "Jane keeps asking about words." if not request.tools else "answer " * 150
        yield ModelResponse(text=text.strip(), finish_reason="stop")

    async def aclose(self) -> None:
        return None


def answering_engine(store: Store, model: AnsweringModel, *, budget: int) -> Engine:
    """The real engine over the store, answered by `model`, with a small input budget."""
    return Engine(
        store=store,
        identities=Directory(),
        helpdesk=cast(HelpdeskClient, ChatDouble()),
        model=model,
        tools=Tools().registry(),
        config=EngineConfig(input_token_budget=budget, val_ai_wait_s=0.0),
    )


async def test_a_sixty_turn_conversation_folds_in_a_few_chunks(store: Store) -> None:
    model = AnsweringModel()
    engine = answering_engine(store, model, budget=3000)
    for number in range(60):
        inbound = Inbound("test", "long", USER_KEY, text=f"{'word ' * 150}({number})")
        async for _ in engine.handle(inbound):
            pass

    summaries = [r for r in model.requests if not r.tools]
    answers = [r for r in model.requests if r.tools]
    assert len(answers) == 60
    assert 1 < len(summaries) <= 60 // 4, len(summaries)  # one a turn before the chunks
    sizes = [sum(message_tokens(m) for m in r.messages) + tools_tokens(r.tools) for r in answers]
    assert max(sizes) <= 3000
    assert max(sizes[20:]) - min(sizes[20:]) < 3000 * (1 - KEEP_AFTER_FOLD), "flat, bounded"
    conversation = await store.find_conversation("test", "long")
    assert conversation is not None and conversation.summary == "Jane keeps asking about words."


async def test_a_turn_stores_its_replies_in_one_transaction_after_the_inbound(
    bench: Any, tmp_path: Path
) -> None:
    committed_at_model_call: list[list[tuple[str, str]]] = []

    def answer_after_looking(request: Any) -> Step:
        with closing(sqlite3.connect(tmp_path / "engine.db")) as outside:  # committed rows only
            rows = outside.execute("SELECT role, status FROM messages ORDER BY seq").fetchall()
        committed_at_model_call.append(rows)
        return Step(tool_calls=(tool_call("lookup", {"q": "vpn"}),))  # not offered: an error

    b = bench(answer_after_looking, Step(text="Reconnect the VPN."))
    writes: list[list[str]] = [[]]  # the message writes of each transaction
    conversation_reads: list[str] = []  # whole conversation rows read after the inbound

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split()
        after_inbound = len(writes) > 1  # the inbound's transaction reads the row it locks
        if after_inbound and words[:3] == ["SELECT", "conversations.id,", "conversations.channel,"]:
            conversation_reads.append(statement)
        if words[:3] == ["INSERT", "INTO", "messages"] or words[:2] == ["UPDATE", "messages"]:
            writes[-1].append(" ".join(words[:4]))

    def on_commit(_conn: Any) -> None:
        writes.append([])

    engine = b.store.engine.sync_engine
    listen(engine, "before_cursor_execute", on_statement)
    listen(engine, "commit", on_commit)
    try:
        [answer] = only(await b.say("my VPN drops"), Message)
    finally:
        remove(engine, "before_cursor_execute", on_statement)
        remove(engine, "commit", on_commit)

    assert committed_at_model_call == [[("user", "pending")]], "the inbound is committed first"
    assert [w for w in writes if w] == [
        ["INSERT INTO messages (conversation_id,"],  # the inbound, alone
        ["INSERT INTO messages (conversation_id,", "UPDATE messages SET status=?"],
    ], "the turn's rows in one statement, the inbound marked done in the same transaction"
    assert len(conversation_reads) == 1, "read once under the turn lock, with the history"
    stored = await b.store.recent_messages(await b.conversation_id(), limit=10)
    assert [(m.role, m.status) for m in stored] == [
        ("user", "done"),
        ("assistant", "done"),  # the tool call
        ("tool", "done"),
        ("assistant", "done"),  # the answer, with 👍/👎 naming its row
    ]
    assert answer.message_id == stored[-1].id
    assert {a.id for a in answer.actions if a.kind == "feedback"} == {f"feedback:{stored[-1].id}"}


class NoChatDesk(ChatDouble):
    """A helpdesk whose chat cannot be started for this user (the module is off)."""

    async def chat_start(self, auth: UserAuth) -> ChatSession:
        raise HelpdeskUnavailable("chat is off", method="POST", path="/chat/start")


@pytest.mark.parametrize(("desk", "offered"), [(ChatDouble, True), (NoChatDesk, False)])
async def test_a_tool_that_needs_the_chat_is_offered_only_in_a_turn_with_one(
    store: Store, desk: type[ChatDouble], offered: bool
) -> None:
    tools = Tools()
    in_chat = ToolSpec(
        "note_in_chat", NoteArgs, tools.file_note, needs_chat=True, description="Note it."
    )
    model = ScriptedChatModel(Step(text="Noted."))
    engine = Engine(
        store=store,
        identities=Directory(),
        helpdesk=cast(HelpdeskClient, desk()),
        model=model,
        tools=ToolRegistry([*tools.registry(), in_chat]),
        config=EngineConfig(val_ai_wait_s=0.0),
    )
    async for _ in engine.handle(Inbound("test", "chatless", USER_KEY, text="note this")):
        pass

    [request] = model.requests
    names = [tool.name for tool in request.tools]
    assert names == ["file_note", "hand_off"] + (["note_in_chat"] if offered else [])


async def test_every_path_of_a_turn_leaves_its_inbound_done(bench: Any) -> None:
    b = bench(
        Step(text="Hello."),  # answered: marked done with the answer's rows
        Step(tool_calls=(tool_call("hand_off", {"reason": "wants a person"}),)),
        Step(text="Jane wants a person."),  # the handoff note, after the answer's rows
        propose("printer on fire"),  # a confirm card
    )
    for text in ("hi", "a person please", "file a note"):
        await b.say(text)
    await b.store.set_owner(await b.conversation_id(), expected="queued", new="bot")
    await b.say("no")  # a typed no answers the pending write: no model call

    stored = await b.store.recent_messages(await b.conversation_id(), limit=50)
    inbound = [(m.content, m.status) for m in stored if m.role == "user"]
    assert inbound == [(t, "done") for t in ("hi", "a person please", "file a note", "no")]


@dataclass
class AgentLeavesDesk(ChatDouble):
    """The agent ends the chat while the user's message is mirrored into it: the relay
    hands the conversation back to the bot meanwhile."""

    store: Store | None = None
    conversation_id: int | None = None

    async def chat_send(self, auth: UserAuth, chat_id: int, message: str) -> ChatMessage:
        sent = await super().chat_send(auth, chat_id, message)
        assert self.store is not None and self.conversation_id is not None
        await self.store.set_owner(self.conversation_id, expected="human", new="bot")
        return sent


async def test_a_conversation_the_agent_gave_back_meanwhile_is_answered(store: Store) -> None:
    conversation = await store.get_or_create_conversation("test", "back", user_key=USER_KEY)
    assert await store.set_owner(conversation.id, expected="bot", new="queued")
    assert await store.set_owner(conversation.id, expected="queued", new="human")
    model = ScriptedChatModel(Step(text="Back with the bot: try reconnecting."))
    desk = AgentLeavesDesk(store=store, conversation_id=conversation.id)
    engine = Engine(
        store=store,
        identities=Directory(),
        helpdesk=cast(HelpdeskClient, desk),
        model=model,
        tools=Tools().registry(),
        config=EngineConfig(val_ai_wait_s=0.0),
    )

    replies = [r async for r in engine.handle(Inbound("test", "back", USER_KEY, text="vpn?"))]

    assert [m.text for m in only(replies, Message)] == ["Back with the bot: try reconnecting."]
    model.assert_consumed()


async def test_a_folded_chunk_reaches_the_summary_whole(store: Store) -> None:
    """A chunk is several turns at once; none of it may be cut from the summary's input."""
    model = AnsweringModel()
    engine = answering_engine(store, model, budget=8000)
    for number in range(40):
        inbound = Inbound("test", "chunks", USER_KEY, text=f"{'word ' * 150}<{number}>")
        async for _ in engine.handle(inbound):
            pass

    conversation = await store.find_conversation("test", "chunks")
    assert conversation is not None and conversation.summary_up_to_seq
    stored = await store.recent_messages(conversation.id, limit=500)
    last_folded = conversation.summary_up_to_seq
    folded = [m.content for m in stored if m.role == "user" and m.seq <= last_folded]
    summarised = " ".join(r.messages[0].content or "" for r in model.requests if not r.tools)
    markers = [text.rsplit(" ", 1)[-1] for text in folded]  # "<n>", each message's end
    missing = [m for m in markers if m not in summarised]
    assert markers and missing == []
