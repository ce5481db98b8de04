"""The real services (`build_services`) over a sandbox helpdesk, driven turn by turn.

`say` runs one engine turn as a channel would and returns what the user would read; the
sandbox's back office injects faults and its request log says what was written.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from adapters.compose import Services, build_services
from bot.engine import Engine, EngineConfig
from bot.messages import (
    ActionInvoke,
    AgentMessage,
    ConfirmRequest,
    ErrorReply,
    HandoffStatus,
    Inbound,
    LinkRequired,
    Message,
    Reply,
)
from bot.settings import Settings
from bot.tooling import ToolRegistry
from sandbox.runner import RunningSandbox
from tests.conftest import DEMO_PASSWORDS
from tests.faults.ledger import LEDGER
from tools import all_tools

REPLY_WITHIN_S = 30.0


def user_texts(replies: list[Reply]) -> list[str]:
    """What a user reads of a turn (no typing, no deltas: the final text is also a Message)."""
    texts: list[str] = []
    for reply in replies:
        if isinstance(reply, Message | ErrorReply | HandoffStatus | AgentMessage | LinkRequired):
            texts.append(reply.text)
        elif isinstance(reply, ConfirmRequest):
            texts.append(" ".join([reply.title, *(f.value for f in reply.fields), *reply.notices]))
    return texts


def confirm_id(replies: list[Reply]) -> str:
    confirm = next(r for r in replies if isinstance(r, ConfirmRequest))
    return next(a.id for a in confirm.actions if a.kind == "confirm")


@dataclass
class Chat:
    services: Services
    sandbox: RunningSandbox
    backoffice: httpx.AsyncClient
    conversation: str = field(default_factory=lambda: uuid.uuid4().hex)
    engine: Engine | None = None  # another engine over the same services (other deadlines)

    def with_config(self, config: EngineConfig) -> Chat:
        """The same services under an engine with other deadlines (e.g. a short turn)."""
        s = self.services
        engine = Engine(
            store=s.store,
            identities=s.identities,
            helpdesk=s.helpdesk,
            model=s.model,
            tools=ToolRegistry(all_tools()),
            config=config,
        )
        return Chat(s, self.sandbox, self.backoffice, engine=engine)

    async def link(self, email: str = "jane@acme.example") -> None:
        await self.services.identities.link_with_password(
            "test", f"test:{email}", username=email, password=DEMO_PASSWORDS[email]
        )

    async def say(
        self,
        text: str | None = None,
        *,
        action: str | None = None,
        user: str = "jane@acme.example",
        event_id: str | None = None,
    ) -> list[Reply]:
        """One turn; it must end within 30 s, and it counts as a message sent."""
        inbound = Inbound(
            channel="test",
            conversation_key=self.conversation,
            user_key=f"test:{user}",
            text=text,
            action=ActionInvoke(action) if action else None,
            event_id=event_id or uuid.uuid4().hex,
        )
        async with asyncio.timeout(REPLY_WITHIN_S):
            replies = [
                reply async for reply in (self.engine or self.services.engine).handle(inbound)
            ]
        received = LEDGER.exchange(user_texts(replies))
        assert received, f"no reply to {text or action!r}"
        return replies

    async def inject(self, **fault: Any) -> None:
        await LEDGER.inject(self.backoffice, **fault)

    async def clear_faults(self) -> None:
        (await self.backoffice.delete("/sandbox/faults")).raise_for_status()

    async def written(self, method: str, path: str) -> int:
        """Successful requests with exactly this method and path in the sandbox log."""
        response = await self.backoffice.get(
            "/sandbox/requests", params={"path_prefix": path, "method": method}
        )
        rows = response.json()["requests"]
        return sum(1 for r in rows if r["path"] == path and 200 <= r["status"] < 300)


def chat_settings(sandbox: RunningSandbox, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "helpdesk_base_url": sandbox.api_base,
        "openai_base_url": f"{sandbox.base_url}/v1",
        "openai_api_key": None,
        "llm_model": "sandbox-stand-in",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "bot_secret_key": "faults-secret-key",
        "bot_public_url": "http://127.0.0.1:9",
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "slack_app_token": None,
    }
    return Settings(**(values | overrides))


@asynccontextmanager
async def open_chat(
    sandbox: RunningSandbox, tmp_path: Path, **overrides: Any
) -> AsyncIterator[Chat]:
    settings = chat_settings(sandbox, tmp_path, **overrides)
    async with (
        build_services(settings, model_stream_delay_s=0) as services,
        httpx.AsyncClient(base_url=sandbox.base_url, timeout=10) as backoffice,
    ):
        yield Chat(services, sandbox, backoffice)
