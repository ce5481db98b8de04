"""The widget's chat WebSocket (`/widget/ws`) and its proactive sender, `WebDelivery`.

Protocol (JSON text frames; every server frame has a `type`)

client → server
  {"type":"hello","last_seq":N}     on every (re)connect: the highest `seq` the page shows;
                                     the server replays every shown transcript row after N
                                     (after a page load, N=0: the recent history), then
                                     sends `ready`
  {"type":"message","client_id":C,"text":T}
  {"type":"action","client_id":C,"action_id":A,"value":V}   a button press
  {"type":"ping"}                    → {"type":"pong"} (the page's own liveness check)

  `client_id` ([A-Za-z0-9_-]{8,64}) is chosen by the page once per message and reused when
  it resends; it becomes the engine's `event_id` (`web:<client_id>`), so a resent message
  is answered from the store, never run twice.

server → client
  {"type":"ack","client_id":C}       the message is stored; the page may drop it from its
                                     outbox (not acked → resent after a reconnect)
  {"type":"rejected","client_id":C,"reason":"too_large"|"rate_limited"|"failed"|
   "shutting_down","text":...,"retry_after_s":S}   not taken; nothing was stored
  {"type":"typing","reply_to":C}     {"type":"delta","text":...,"reply_to":C}
  {"type":"done","reply_to":C}       the turn for C finished (clear typing/streaming)
  transcript frames, each with the store's `seq` (strictly increasing per conversation):
    user | message | confirm | notice | handoff | agent | signin_required | error(code=turn)
    (shapes: `adapters.web.render`); a live frame also has `reply_to`. A final frame the
    store does not hold (rare: a relay prompt) has `seq: null` and is not replayed.
  {"type":"ready","last_seq":N,"name":...,"handoff":null|{"state","label"}}  replay
                                     finished; N is the page's new cursor; `handoff` says
                                     whether an agent is awaited or present
  {"type":"error","code":"bad_frame","text":...}  a malformed frame; the socket stays open
  {"type":"error","code":"failed","seq":null,"reply_to":C,...}  a turn crashed after its
                                     ack; the message is stored, resending it retries
  {"type":"signed_out"}              then close code 4401: this socket's session ended; the
                                     page asks `GET /widget/session` what to do next

Exactly-once display: each socket has a cursor (the highest seq it was sent). A transcript
frame is sent only with a seq above the cursor, after every stored row between the cursor
and it (rendered from the store), so a socket sees each row once and in order, whether the
row came from a live turn, the handoff relay or a replay. The page also ignores a seq it
already shows (a second tab, a reload).

Handshake: the `Origin` must be allowed (`OriginPolicy`) and the session cookie live, else
403 before the upgrade.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from aiohttp import WSMsgType, web

from adapters.tasks import TaskGroup
from adapters.web.delivery import LiveSocket, WebDelivery
from adapters.web.protocol import (
    MAX_FRAME_BYTES,
    ActionFrame,
    BadFrame,
    HelloFrame,
    MessageFrame,
    PingFrame,
    RateLimiter,
    Rejected,
    check_message_size,
    parse_client_frame,
    rate_limited_text,
)
from adapters.web.render import (
    EVENT_PREFIX,
    handoff_label,
    is_final,
    render_reply,
)
from adapters.web.session import CHANNEL, WidgetSessions, origin_refused
from bot import prompts
from bot.desk import Desk
from bot.engine import Engine
from bot.messages import ActionInvoke, HandoffStatus, Inbound, Message, Reply

log = logging.getLogger(__name__)

HEARTBEAT_S = 25.0  # WebSocket pings: a dead peer (sleeping laptop) is noticed and dropped
TURN_TIMEOUT_S = 180.0  # backstop; the engine answers (maybe degraded) well before
CLOSE_SIGNED_OUT = 4401
HISTORY_ROWS = 400  # transcript rows (shown or not) a freshly loaded page is sent


class WebChat:
    """Serves `/widget/ws`: checks the handshake, reads frames, runs turns in owned tasks."""

    def __init__(
        self,
        *,
        engine: Engine,
        desk: Desk,
        sessions: WidgetSessions,
        delivery: WebDelivery,
        tasks: TaskGroup,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._engine = engine
        self._desk = desk
        self._sessions = sessions
        self._delivery = delivery
        self._tasks = tasks
        self._limiter = limiter or RateLimiter()

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if not self._sessions.origin_allowed(request):
            return origin_refused()
        user = await self._sessions.current(request)
        if user is None:
            return web.json_response(
                {"error": "not_signed_in", "message": prompts.reply("web_sign_in_to_chat")},
                status=403,
            )
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_FRAME_BYTES)
        if not ws.can_prepare(request).ok:
            return web.json_response({"error": "websocket_required"}, status=426)
        await ws.prepare(request)
        socket = LiveSocket(ws, user)
        self._delivery.attach(socket)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._on_frame(socket, message.data)
                elif message.type == WSMsgType.BINARY:
                    await socket.send(_bad(prompts.reply("web_frame_binary")))
                else:
                    break
        finally:
            self._delivery.detach(socket)
        return ws

    async def _on_frame(self, socket: LiveSocket, raw: str) -> None:
        frame = parse_client_frame(raw)
        if isinstance(frame, BadFrame):
            await socket.send(_bad(frame.text))
        elif isinstance(frame, PingFrame):
            await socket.send({"type": "pong"})
        elif isinstance(frame, HelloFrame):
            await self._delivery.sync(socket, restart_at=await self._replay_from(socket, frame))
            ready = {
                "type": "ready",
                "last_seq": socket.cursor,
                "name": socket.user.name,
                "handoff": await self._handoff_state(socket.conversation_key),
            }
            await socket.send(ready)
        else:
            await self._on_user_event(socket, frame)

    async def _replay_from(self, socket: LiveSocket, hello: HelloFrame) -> int:
        """Where the replay starts: the page's seq; a fresh page gets the recent history."""
        if hello.last_seq > 0:
            return hello.last_seq  # a reconnect gets everything it missed, however much
        conversation_id = await self._delivery.conversation_id(socket.conversation_key)
        conversation = (
            await self._desk.get_conversation(conversation_id) if conversation_id else None
        )
        return max(0, conversation.last_seq - HISTORY_ROWS) if conversation else 0

    async def _handoff_state(self, key: str) -> dict[str, Any] | None:
        """Who owns the conversation now, for the header after a reload (None: the bot)."""
        conversation_id = await self._delivery.conversation_id(key)
        conversation = (
            await self._desk.get_conversation(conversation_id) if conversation_id else None
        )
        if conversation is None or conversation.owner == "bot":
            return None
        state: Literal["queued", "joined"] = (
            "queued" if conversation.owner == "queued" else "joined"
        )
        status = HandoffStatus(state=state, text="", agent_name=conversation.agent_name)
        return {"state": state, "label": handoff_label(status)}

    async def _on_user_event(self, socket: LiveSocket, frame: MessageFrame | ActionFrame) -> None:
        if isinstance(frame, MessageFrame):
            if not frame.text.strip():
                await socket.send(_bad(prompts.reply("web_message_empty")))
                return
            if (too_large := check_message_size(frame)) is not None:
                await socket.send(_rejected(too_large))
                return
        if not await self._sessions.is_live(socket.user):
            # This socket's session ended (signed out, or replaced by a newer sign-in in the
            # same browser): close only it; the frame stays unacked and is resent.
            await socket.send({"type": "signed_out"})
            await socket.ws.close(code=CLOSE_SIGNED_OUT, message=b"signed_out")
            return
        retry_after = self._limiter.check(socket.user.user_key, token=frame.client_id)
        if retry_after is not None:
            text = rate_limited_text(retry_after)
            reason = Rejected(frame.client_id, "rate_limited", text, round(retry_after, 1))
            await socket.send(_rejected(reason))
            return
        key = socket.conversation_key
        inbound = Inbound(
            channel=CHANNEL,
            conversation_key=key,
            user_key=key,
            text=frame.text if isinstance(frame, MessageFrame) else None,
            action=ActionInvoke(frame.action_id, frame.value)
            if isinstance(frame, ActionFrame)
            else None,
            event_id=EVENT_PREFIX + frame.client_id,
            display_name=socket.user.name,
        )
        try:
            self._tasks.spawn(self._run_turn(socket, inbound, frame.client_id), name="web-turn")
        except RuntimeError:
            text = prompts.reply("web_restarting")
            await socket.send(_rejected(Rejected(frame.client_id, "shutting_down", text)))

    async def _run_turn(self, socket: LiveSocket, inbound: Inbound, client_id: str) -> None:
        """One engine turn: ack once stored, stream to every socket of the conversation."""
        key = inbound.conversation_key
        acked = False
        claimed: set[int] = set()
        try:
            async with asyncio.timeout(TURN_TIMEOUT_S):
                async for reply in self._engine.handle(inbound):
                    if not acked:  # the engine stores the message before its first event
                        await socket.send({"type": "ack", "client_id": client_id})
                        acked = True
                    frame = {**render_reply(reply), "reply_to": client_id}
                    if is_final(reply):
                        seq = frame["seq"] = await self._turn_seq(key, reply, inbound, claimed)
                    else:
                        seq = None
                    await self._delivery.publish(key, frame, seq=seq)
        except Exception:
            log.exception("A widget turn failed")
            if acked:
                failed = {
                    "type": "error",
                    "code": "failed",
                    "text": prompts.reply("web_message_failed"),
                    "seq": None,
                }
                await self._delivery.publish(key, {**failed, "reply_to": client_id})
            else:
                failed_text = prompts.reply("web_message_failed")
                await socket.send(_rejected(Rejected(client_id, "failed", failed_text)))
        finally:
            await self._delivery.publish(key, {"type": "done", "reply_to": client_id})
            await self._delivery.sync_all(key)

    async def resume_after_sign_in(self, key: str) -> None:
        """Answer the question that made the user sign in again (the helpdesk had refused
        their refresh): once, and only if the link request is still the newest row — the
        engine also skips it if the user wrote since. The replies are stored as they come
        and reach every socket from the store, in order, like any transcript row."""
        conversation_id = await self._delivery.conversation_id(key)
        if conversation_id is None:
            return
        newest = await self._desk.recent_messages(conversation_id, limit=1)
        if not newest or (newest[0].meta or {}).get("kind") != "link":
            return
        waiting = newest[0].reply_to_id
        if waiting is None:
            return
        await self._delivery.publish(key, {"type": "typing", "status": None})
        try:
            async with asyncio.timeout(TURN_TIMEOUT_S):
                replies = self._engine.resume(
                    channel=CHANNEL, conversation_key=key, message_id=waiting
                )
                async for _ in replies:
                    pass  # stored by the engine; sent below from the store
        except Exception:
            log.exception("Answering the waiting question after sign-in failed")
            failed = {
                "type": "error",
                "code": "failed",
                "text": prompts.reply("web_message_failed"),
                "seq": None,
            }
            await self._delivery.publish(key, failed)
        finally:
            await self._delivery.publish(key, {"type": "done", "reply_to": None})
            await self._delivery.sync_all(key)

    async def _turn_seq(
        self, key: str, reply: Reply, inbound: Inbound, claimed: set[int]
    ) -> int | None:
        """The seq of the row the engine stored for this final reply of the turn."""
        if inbound.event_id is None:
            return None
        conversation_id = await self._delivery.conversation_id(key)
        if conversation_id is None:
            return None
        if isinstance(reply, Message) and reply.message_id is not None:
            row = await self._desk.get_message(reply.message_id)
            if row is not None and row.conversation_id == conversation_id:
                claimed.add(row.id)
                return row.seq
        # Confirm requests, handoff notes and errors carry no id: the engine stores each as
        # the newest reply to this inbound just before yielding it.
        for row in reversed(await self._desk.replies_for_event(conversation_id, inbound.event_id)):
            if row.id not in claimed and row.role in ("assistant", "notice"):
                claimed.add(row.id)
                return row.seq
        return None


def _bad(text: str) -> dict[str, Any]:
    return {"type": "error", "code": "bad_frame", "text": text}


def _rejected(rejected: Rejected) -> dict[str, Any]:
    return {
        "type": "rejected",
        "client_id": rejected.client_id,
        "reason": rejected.reason,
        "text": rejected.text,
        "retry_after_s": rejected.retry_after_s,
    }
