"""Builds the process's services from settings: helpdesk, model, store, identities, engine.

Shared by `serve`, `chat` and `eval`, so every entry point wires the same engine. With
`HELPDESK_BASE_URL` unset, the embedded sandbox helpdesk is started in this process; with
no `OPENAI_API_KEY`/`OPENAI_BASE_URL` either, its stand-in model answers.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from adapters.channel import ChannelServices
from bot.config import EngineConfig
from bot.desk import Desk
from bot.engine import Engine, LinkUrl
from bot.handoff import HandoffRelay, RelayConfig
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.errors import HelpdeskError
from bot.identity import IdentityService, TokenVault, load_secret_key
from bot.linking import LinkTokens
from bot.llm import ChatModel
from bot.messages import Inbound
from bot.metered_model import MeteredModel
from bot.settings import Settings
from bot.store.store import Store
from bot.tooling import ToolRegistry
from tools import all_tools

log = logging.getLogger(__name__)

STAND_IN_MODEL = "sandbox-stand-in"
DEMO_STREAM_DELAY_S = 0.02  # lets a person see the stand-in model's reply stream


@dataclass(frozen=True)
class Services:
    settings: Settings
    http: httpx.AsyncClient
    helpdesk: HelpdeskClient
    helpdesk_base_url: str
    store: Store
    identities: IdentityService
    model: ChatModel
    engine: Engine
    secret_key: str
    tenant_name: str
    links: LinkTokens
    relay: HandoffRelay
    desk: Desk
    sign_in: SignInRouter
    sandbox_base_url: str | None = None  # set when the embedded sandbox runs

    @property
    def sandbox_console_url(self) -> str | None:
        return f"{self.sandbox_base_url}/sandbox/console" if self.sandbox_base_url else None

    def for_channels(self) -> ChannelServices:
        """The narrow view channels get (`adapters.channel`): the core's calls only."""
        return ChannelServices(
            settings=self.settings,
            engine=self.engine,
            desk=self.desk,
            identities=self.identities,
            links=self.links,
            tenant_name=self.tenant_name,
            secret_key=self.secret_key,
            helpdesk_base_url=self.helpdesk_base_url,
            model_label=model_label(self.settings),
            sandbox_base_url=self.sandbox_base_url,
        )


def model_label(settings: Settings) -> str:
    """The model that answers, as `build_model` will choose it."""
    if settings.openai_api_key is None and settings.openai_base_url is None:
        return STAND_IN_MODEL
    return f"{settings.llm_model} ({settings.llm_provider})"


def metered_name(settings: Settings) -> str:
    """The model's name in the metrics: the configured one, or the stand-in's."""
    if settings.openai_api_key is None and settings.openai_base_url is None:
        return STAND_IN_MODEL
    return settings.llm_model


def build_model(settings: Settings, *, sandbox_base_url: str | None) -> ChatModel:
    """The configured chat model; the sandbox's stand-in when nothing is configured."""
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    base_url = settings.openai_base_url
    model_name = settings.llm_model
    if api_key is None and base_url is None:
        if sandbox_base_url is None:
            raise SystemExit(
                "No model configured: set OPENAI_API_KEY and/or OPENAI_BASE_URL "
                "(HELPDESK_BASE_URL is set, so the sandbox's stand-in model is not started)."
            )
        base_url, model_name = f"{sandbox_base_url}/v1", STAND_IN_MODEL
    if settings.llm_provider == "langchain":
        from bot.llm_langchain import langchain_chat_model

        return langchain_chat_model(model_name, api_key=api_key, base_url=base_url)
    from bot.llm_openai import openai_chat_model

    return openai_chat_model(model=model_name, api_key=api_key, base_url=base_url)


@asynccontextmanager
async def build_services(
    settings: Settings,
    *,
    sandbox_host: str = "127.0.0.1",
    sandbox_port: int = 0,
    link_url: LinkUrl | None = None,
    model_stream_delay_s: float = DEMO_STREAM_DELAY_S,
) -> AsyncIterator[Services]:
    """Everything a channel needs, opened in order and closed in reverse.

    `model_stream_delay_s` paces the embedded stand-in model's stream (0 for evaluations
    and tests, where nobody watches the text arrive).
    """
    async with AsyncExitStack() as stack:
        base_url, sandbox_base = await _helpdesk_endpoint(
            stack,
            settings,
            host=sandbox_host,
            port=sandbox_port,
            model_stream_delay_s=model_stream_delay_s,
        )
        store = await Store.open(settings.database_url)
        stack.push_async_callback(store.aclose)
        secret = await load_secret_key(
            store,
            settings.bot_secret_key.get_secret_value() if settings.bot_secret_key else None,
        )
        vault = TokenVault(store, secret)
        links = LinkTokens(store=store, secret=secret, public_url=settings.bot_public_url)

        http = httpx.AsyncClient()
        stack.push_async_callback(http.aclose)
        helpdesk = _helpdesk_client(settings, base_url, http=http, vault=vault)
        identities = IdentityService(store=store, helpdesk=helpdesk, vault=vault)
        model = MeteredModel(
            build_model(settings, sandbox_base_url=sandbox_base), label=metered_name(settings)
        )
        stack.push_async_callback(model.aclose)
        tenant = await _tenant_name(helpdesk)
        replica = replica_id()
        sign_in = SignInRouter()
        engine = Engine(
            store=store,
            identities=identities,
            helpdesk=helpdesk,
            model=model,
            tools=ToolRegistry(all_tools()),
            config=EngineConfig(
                tenant_name=tenant, input_token_budget=settings.llm_input_token_budget
            ),
            link_url=sign_in.url,
            holder=replica,
        )
        yield Services(
            settings=settings,
            http=http,
            helpdesk=helpdesk,
            helpdesk_base_url=base_url,
            store=store,
            identities=identities,
            model=model,
            engine=engine,
            secret_key=secret,
            tenant_name=tenant,
            links=links,
            relay=HandoffRelay(
                store=store,
                helpdesk=helpdesk,
                identities=identities,
                holder=replica,
                config=RelayConfig(offer_ticket_after_s=settings.handoff_ticket_offer_after_s),
            ),
            desk=Desk(store=store, helpdesk=helpdesk),
            sign_in=sign_in,
            sandbox_base_url=sandbox_base,
        )


async def _helpdesk_endpoint(
    stack: AsyncExitStack,
    settings: Settings,
    *,
    host: str,
    port: int,
    model_stream_delay_s: float,
) -> tuple[str, str | None]:
    """The helpdesk API base and, when none is configured, the embedded sandbox's own base."""
    if settings.helpdesk_base_url is not None:
        return settings.helpdesk_base_url, None
    from sandbox.runner import SandboxConfig, start_sandbox

    config = SandboxConfig(model_stream_delay_s=model_stream_delay_s)
    sandbox = await stack.enter_async_context(start_sandbox(host=host, port=port, config=config))
    return sandbox.api_base, sandbox.base_url


def _helpdesk_client(
    settings: Settings, base_url: str, *, http: httpx.AsyncClient, vault: TokenVault
) -> HelpdeskClient:
    return HelpdeskClient(
        base_url,
        http=http,
        connect_timeout=settings.helpdesk_connect_timeout,
        read_timeout=settings.helpdesk_read_timeout,
        retry_budget=settings.helpdesk_retry_budget,
        on_tokens_refreshed=vault.persist_refreshed,
    )


@asynccontextmanager
async def eval_services(
    settings: Settings, *, database_url: str | None = None
) -> AsyncIterator[ChannelServices]:
    """What `helpdesk-bot eval` drives: the services `serve` builds, as a channel sees them,
    over a throw-away store unless one is given."""
    async with AsyncExitStack() as stack:
        if database_url is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="helpdesk-eval-"))
            database_url = f"sqlite+aiosqlite:///{Path(folder) / 'eval.db'}"
        settings = settings.model_copy(update={"database_url": database_url})
        services = await stack.enter_async_context(
            build_services(settings, model_stream_delay_s=0.0)
        )
        yield services.for_channels()


def replica_id() -> str:
    """Names this process in leases, so replicas can tell whose lease is whose."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SignInRouter:
    """Where an unlinked user signs in, asked of the channel they wrote from.

    The engine is built before the channels, so it gets `url`, and each channel the server
    mounts registers its `sign_in_url` here. A channel with none registered (the terminal,
    the eval harness) gets no URL, and the engine tells the user how to sign in instead.
    """

    def __init__(self) -> None:
        self._channels: dict[str, LinkUrl] = {}

    def register(self, channel: str, sign_in_url: LinkUrl) -> None:
        self._channels[channel] = sign_in_url

    async def url(self, inbound: Inbound, message_id: int) -> str | None:
        sign_in_url = self._channels.get(inbound.channel)
        return await sign_in_url(inbound, message_id) if sign_in_url is not None else None


async def _tenant_name(helpdesk: HelpdeskClient) -> str:
    try:
        return (await helpdesk.init()).tenant.name
    except HelpdeskError as exc:
        log.warning("Could not read the tenant's name from /init (%s); using a default", exc)
        return "IT Helpdesk"
