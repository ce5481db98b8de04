"""One workload, three implementations: our engine, LangChain's create_agent, a bare loop.

Per turn the user writes a message; the model calls `search_kb` once, the tool reads the
sandbox's knowledge base over HTTP, and the model answers in text. Each implementation is a
`Runner` with `turn(conversation, text) -> answer text`; the harness times the turn and
charges the model time, model requests, helpdesk calls and DB statements to it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import openai
from pydantic import SecretStr

from adapters.compose import Services, build_services
from bench.servers import Urls
from bot.messages import ErrorReply, Inbound, Message
from bot.settings import Settings

USER = "jane@acme.example"
PASSWORD = "demo-jane"
MODEL = "bench-model"
SHORT_MESSAGE = "My VPN keeps disconnecting every few minutes when I work from home, what can I do?"


class Runner(Protocol):
    name: str

    async def turn(self, conversation: str, text: str) -> str: ...


@dataclass(frozen=True)
class Offered:
    """What our engine sends the model on a turn: the system prompt and the tool schemas.
    The baselines are given exactly these, so only the loop differs."""

    system: str
    tools: list[dict[str, Any]]


# -- ours ----------------------------------------------------------------------------------


@dataclass
class OursRunner:
    services: Services
    name: str = "ours"
    linked: set[str] = field(default_factory=set)

    async def prepare(self, conversation: str) -> None:
        """Link the conversation's channel user to the helpdesk account (not timed)."""
        if conversation not in self.linked:
            await self.services.identities.link_with_password(
                "bench", f"bench:{conversation}", username=USER, password=PASSWORD
            )
            self.linked.add(conversation)

    async def turn(self, conversation: str, text: str) -> str:
        inbound = Inbound(
            channel="bench",
            conversation_key=conversation,
            user_key=f"bench:{conversation}",
            text=text,
            event_id=uuid.uuid4().hex,
        )
        answer = ""
        async for reply in self.services.engine.handle(inbound):
            if isinstance(reply, Message):
                answer = reply.text
            elif isinstance(reply, ErrorReply):
                raise RuntimeError(f"ours answered with an error: {reply.text[:80]}")
        return answer


def bench_settings(urls: Urls, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        helpdesk_base_url=urls.api,
        openai_base_url=urls.model,
        openai_api_key=SecretStr("bench"),
        llm_model=MODEL,
        database_url=database_url,
        bot_secret_key=SecretStr("bench-secret-key-bench-secret-key"),
    )


@asynccontextmanager
async def ours(urls: Urls, database_url: str, name: str) -> AsyncIterator[OursRunner]:
    async with build_services(bench_settings(urls, database_url), model_stream_delay_s=0) as s:
        yield OursRunner(services=s, name=name)


# -- the helpdesk, as the baselines' tool reaches it ------------------------------------------


@dataclass
class KbOverHttp:
    """`search_kb` as a plain HTTP call to the same helpdesk endpoint our tool uses."""

    http: httpx.AsyncClient
    api: str
    token: str = ""

    async def login(self) -> None:
        response = await self.http.post(
            f"{self.api}/auth/login", json={"username": USER, "password": PASSWORD}
        )
        response.raise_for_status()
        self.token = response.json()["access_token"]

    async def search(self, query: str, category: str | None = None) -> str:
        params: dict[str, Any] = {"search": query, "per_page": 5}
        if category:
            params["category"] = category
        response = await self.http.get(
            f"{self.api}/kb/articles",
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        response.raise_for_status()
        return json.dumps(response.json().get("articles", []))

    async def call(self, name: str, arguments: Mapping[str, Any]) -> str:
        if name == "search_kb":
            return await self.search(str(arguments.get("query", "")), arguments.get("category"))
        return json.dumps({"error": f"{name} is not part of this benchmark's workload"})


# -- LangChain create_agent ------------------------------------------------------------------


@dataclass
class LangChainRunner:
    agent: Any
    name: str = "create_agent"

    async def turn(self, conversation: str, text: str) -> str:
        state = await self.agent.ainvoke(
            {"messages": [{"role": "user", "content": text}]},
            config={"configurable": {"thread_id": conversation}},
        )
        return str(state["messages"][-1].content)


def langchain_runner(urls: Urls, offered: Offered, kb: KbOverHttp) -> LangChainRunner:
    from langchain.agents import create_agent
    from langchain_core.tools import StructuredTool
    from langchain_openai import ChatOpenAI
    from langgraph.checkpoint.memory import InMemorySaver

    def tool(schema: Mapping[str, Any]) -> StructuredTool:
        function = schema["function"]
        name = function["name"]

        async def run(**arguments: Any) -> str:
            return await kb.call(name, arguments)

        return StructuredTool.from_function(
            coroutine=run,
            name=name,
            description=function.get("description", ""),
            args_schema=function.get("parameters") or {"type": "object", "properties": {}},
        )

    model = ChatOpenAI(
        model=MODEL, base_url=urls.model, api_key=SecretStr("bench"), max_retries=0, streaming=True
    )
    agent = create_agent(
        model,
        tools=[tool(schema) for schema in offered.tools],
        system_prompt=offered.system,
        checkpointer=InMemorySaver(),  # LangGraph's way to keep the full history per thread
    )
    return LangChainRunner(agent=agent)


# -- a bare loop -----------------------------------------------------------------------------


@dataclass
class BareRunner:
    client: openai.AsyncOpenAI
    offered: Offered
    kb: KbOverHttp
    name: str = "bare loop"
    histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    async def turn(self, conversation: str, text: str) -> str:
        history = self.histories.setdefault(
            conversation, [{"role": "system", "content": self.offered.system}]
        )
        history.append({"role": "user", "content": text})
        for _ in range(6):
            stream = await self.client.chat.completions.create(
                model=MODEL,
                messages=history,  # type: ignore[arg-type]
                tools=self.offered.tools,  # type: ignore[arg-type]
                stream=True,
            )
            content: list[str] = []
            calls: dict[int, dict[str, Any]] = {}
            async for chunk in stream:
                if not chunk.choices:
                    continue
                delta = chunk.choices[0].delta
                if delta.content:
                    content.append(delta.content)
                for part in delta.tool_calls or []:
                    call = calls.setdefault(
                        part.index,
                        {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                    )
                    if part.id:
                        call["id"] = part.id
                    if part.function and part.function.name:
                        call["function"]["name"] += part.function.name
                    if part.function and part.function.arguments:
                        call["function"]["arguments"] += part.function.arguments
            if not calls:
                answer = "".join(content)
                history.append({"role": "assistant", "content": answer})
                return answer
            ordered = [calls[i] for i in sorted(calls)]
            history.append(
                {"role": "assistant", "content": "".join(content) or None, "tool_calls": ordered}
            )
            for call in ordered:
                result = await self.kb.call(
                    call["function"]["name"], json.loads(call["function"]["arguments"] or "{}")
                )
                history.append({"role": "tool", "tool_call_id": call["id"], "content": result})
        raise RuntimeError("bare loop: too many steps")


@asynccontextmanager
async def baselines(
    urls: Urls, offered: Offered
) -> AsyncIterator[tuple[LangChainRunner, BareRunner]]:
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
        kb = KbOverHttp(http=http, api=urls.api)
        await kb.login()
        client = openai.AsyncOpenAI(base_url=urls.model, api_key="bench", max_retries=0)
        stack.push_async_callback(client.close)
        yield langchain_runner(urls, offered, kb), BareRunner(client=client, offered=offered, kb=kb)


async def capture_offered(runner: OursRunner) -> Offered:
    """Run one turn of ours and read what its first model request carried (not timed)."""
    from bench import meter

    seen: list[dict[str, Any]] = []
    conversation = f"capture-{uuid.uuid4().hex[:8]}"
    await runner.prepare(conversation)
    meter.observe_model_bodies(seen.append)
    try:
        await runner.turn(conversation, SHORT_MESSAGE)
    finally:
        meter.observe_model_bodies(None)
    first = seen[0]
    system = next(m["content"] for m in first["messages"] if m["role"] == "system")
    return Offered(system=system, tools=list(first.get("tools") or []))
