"""The engine's test doubles without sockets: a linked user, the helpdesk's chat calls in
memory, tools as plain data, and the `store` and `bench` fixtures (a real Engine over a real
SQLite store in the test's tmp_path, with a scripted model).

The helpdesk double has the real client's method signatures and its pydantic models; what
crossed it is recorded in `desk.sent`. Test modules import the fixtures they use.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import BaseModel, ConfigDict, Field

from bot.config import EngineConfig
from bot.engine import Engine
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.credentials import UserAuth
from bot.helpdesk.models import ChatMessage, ChatMessages, ChatSession, ChatStatus, Permissions
from bot.helpdesk.models import Profile as HelpdeskProfile
from bot.identity import HelpdeskUser
from bot.messages import ActionInvoke, Inbound, Reply
from bot.store.store import Store
from bot.tooling import (
    Capabilities,
    ToolContext,
    ToolOutcome,
    ToolRegistry,
    ToolSpec,
    WritePreview,
)
from tests.fakes.scripted_model import Reply as Step
from tests.fakes.scripted_model import ScriptedChatModel, tool_call

USER_KEY = "test:jane"


@dataclass
class ChatDouble:
    """The helpdesk's chat calls, in memory, with the client's signatures and models."""

    call_timeout_s: float = 20.0  # HelpdeskClient's per-call timeout (tool deadlines use it)
    sent: list[tuple[int, str]] = field(default_factory=list)
    transfers: list[tuple[int, str | None]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def chat_start(self, auth: UserAuth) -> ChatSession:
        return ChatSession(chat_id=700, status="active")

    async def chat_send(self, auth: UserAuth, chat_id: int, message: str) -> ChatMessage:
        self.sent.append((chat_id, message))
        return ChatMessage(
            message_id=next(self._ids),
            chat_id=chat_id,
            sender_type="user",
            message=message,
            created_at=datetime.now(UTC),
        )

    async def chat_messages(
        self, auth: UserAuth, chat_id: int, *, since: Any = None, **_: Any
    ) -> ChatMessages:
        return ChatMessages(chat_id=chat_id, status="active", messages=[])  # no Val AI

    async def chat_transfer(
        self, auth: UserAuth, chat_id: int, *, reason: str | None = None
    ) -> ChatStatus:
        self.transfers.append((chat_id, reason))
        return ChatStatus(chat_id=chat_id, status="waiting_agent")


@dataclass
class Directory:
    """Jane is linked; nobody else is."""

    async def resolve(self, channel: str, user_key: str) -> HelpdeskUser | None:
        if user_key != USER_KEY:
            return None
        profile = HelpdeskProfile(
            employee_number=1,
            first_name="Jane",
            last_name="Smith",
            email="jane@acme.example",
            company_name="Acme",
            permissions=Permissions(can_create_tickets=True),
        )
        return HelpdeskUser(
            identity_id=1,
            auth=UserAuth(user_key=user_key, access_token="t"),
            profile=profile,
            capabilities=Capabilities.from_profile(profile),
        )


class NoteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(description="What to file.")


class HandoffArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(description="Why.")


@dataclass
class Tools:
    """A write (`file_note`) and a handoff request, as plain data; writes are recorded."""

    written: list[str] = field(default_factory=list)

    async def file_note(self, ctx: ToolContext, args: NoteArgs) -> ToolOutcome:
        self.written.append(args.text)
        return ToolOutcome({"status": "done", "ticket_number": 42})

    async def preview(self, ctx: ToolContext, args: NoteArgs) -> WritePreview:
        return WritePreview(title="File a note", fields=(("Text", args.text),))

    async def hand_off(self, ctx: ToolContext, args: HandoffArgs) -> ToolOutcome:
        return ToolOutcome({"status": "queued"}, handoff_reason=args.reason)

    def registry(self) -> ToolRegistry:
        return ToolRegistry(
            [
                ToolSpec(
                    "file_note",
                    NoteArgs,
                    self.file_note,
                    needs_confirmation=True,
                    preview=self.preview,
                    done_text=lambda data: f"Filed note {data['ticket_number']}.",
                    description="File a note.",
                ),
                ToolSpec("hand_off", HandoffArgs, self.hand_off, description="Ask for a person."),
            ]
        )


@dataclass
class Bench:
    engine: Engine
    model: ScriptedChatModel
    store: Store
    desk: ChatDouble
    tools: Tools
    key: str = "conv-1"
    events: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def say(self, text: str | None = None, *, action: str | None = None) -> list[Reply]:
        inbound = Inbound(
            channel="test",
            conversation_key=self.key,
            user_key=USER_KEY,
            text=text,
            action=ActionInvoke(action, None) if action else None,
            event_id=f"e{next(self.events)}",
        )
        return [reply async for reply in self.engine.handle(inbound)]

    async def conversation_id(self) -> int:
        conversation = await self.store.find_conversation("test", self.key)
        assert conversation is not None
        return conversation.id


@pytest.fixture(name="store")
async def store_fixture(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}")
    yield store
    await store.aclose()


@pytest.fixture(name="bench")
def bench_fixture(store: Store) -> Any:
    benches: list[Bench] = []

    def make(*steps: Any, config: EngineConfig | None = None) -> Bench:
        model, desk, tools = ScriptedChatModel(*steps), ChatDouble(), Tools()
        engine = Engine(
            store=store,
            identities=Directory(),
            helpdesk=cast(HelpdeskClient, desk),
            model=model,
            tools=tools.registry(),
            config=config or EngineConfig(val_ai_wait_s=0.0),
        )
        benches.append(Bench(engine=engine, model=model, store=store, desk=desk, tools=tools))
        return benches[-1]

    yield make
    for made in benches:
        made.model.assert_consumed()


def only(replies: list[Reply], kind: type) -> list[Any]:
    return [reply for reply in replies if isinstance(reply, kind)]


def propose(text: str) -> Step:
    return Step(tool_calls=(tool_call("file_note", {"text": text}),))
