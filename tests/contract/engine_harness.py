"""A real engine over the sandbox, a real store and the real tools; the model is scripted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.config import EngineConfig
from bot.engine import Engine
from bot.helpdesk.client import HelpdeskClient
from bot.identity import IdentityService, TokenVault
from bot.messages import ActionInvoke, Inbound, Reply
from bot.store.store import Store
from bot.tooling import ToolRegistry
from sandbox.runner import RunningSandbox
from tests.conftest import DEMO_PASSWORDS
from tests.fakes.scripted_model import ScriptedChatModel
from tools import all_tools


@dataclass
class Harness:
    engine: Engine
    model: ScriptedChatModel
    store: Store
    helpdesk: HelpdeskClient
    identities: IdentityService
    sandbox: RunningSandbox
    http: httpx.AsyncClient
    conversation: str = field(default_factory=lambda: uuid.uuid4().hex)

    async def link(self, email: str) -> None:
        await self.identities.link_with_password(
            "test", f"test:{email}", username=email, password=DEMO_PASSWORDS[email]
        )

    def inbound(
        self,
        text: str | None = None,
        *,
        user: str = "jane@acme.example",
        action: str | None = None,
        value: str | None = None,
        event_id: str | None = None,
        conversation: str | None = None,
    ) -> Inbound:
        return Inbound(
            channel="test",
            conversation_key=conversation or self.conversation,
            user_key=f"test:{user}",
            text=text,
            action=ActionInvoke(action, value) if action else None,
            event_id=event_id or uuid.uuid4().hex,
        )

    async def say(self, text: str | None = None, **options: Any) -> list[Reply]:
        return [reply async for reply in self.engine.handle(self.inbound(text, **options))]

    async def requests(self, path_prefix: str, method: str | None = None) -> list[dict[str, Any]]:
        """What reached the sandbox helpdesk (its request log)."""
        params = {"path_prefix": path_prefix} | ({"method": method} if method else {})
        response = await self.http.get(f"{self.sandbox.base_url}/sandbox/requests", params=params)
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()["requests"]
        return rows


@dataclass
class HarnessFactory:
    sandbox: RunningSandbox
    store: Store
    http: httpx.AsyncClient
    helpdesk: HelpdeskClient
    vault: TokenVault
    harnesses: list[Harness] = field(default_factory=list)

    def __call__(self, *steps: Any, config: EngineConfig | None = None) -> Harness:
        model = ScriptedChatModel(*steps)
        identities = IdentityService(store=self.store, helpdesk=self.helpdesk, vault=self.vault)
        engine = Engine(
            store=self.store,
            identities=identities,
            helpdesk=self.helpdesk,
            model=model,
            tools=ToolRegistry(all_tools()),
            config=config or EngineConfig(tenant_name="Harbor IT Services", val_ai_wait_s=2.0),
        )
        harness = Harness(
            engine=engine,
            model=model,
            store=self.store,
            helpdesk=self.helpdesk,
            identities=identities,
            sandbox=self.sandbox,
            http=self.http,
        )
        self.harnesses.append(harness)
        return harness


async def harness_factory(sandbox: RunningSandbox, store: Store) -> AsyncIterator[HarnessFactory]:
    async with httpx.AsyncClient(timeout=10) as http:
        vault = TokenVault(store, "test-secret-key")
        helpdesk = HelpdeskClient(
            sandbox.api_base, http=http, on_tokens_refreshed=vault.persist_refreshed
        )
        factory = HarnessFactory(
            sandbox=sandbox, store=store, http=http, helpdesk=helpdesk, vault=vault
        )
        yield factory
        for harness in factory.harnesses:
            harness.model.assert_consumed()
