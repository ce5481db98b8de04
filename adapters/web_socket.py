"""The widget's chat WebSocket (`/widget/ws`) and its proactive sender, `WebDelivery`.

Protocol (JSON text frames; every server frame has a `type`)

client → server
  {"type":"hello","last_seq":N}     on every (re)connect: the highest `seq` the page shows
                                     (0 after a page load); the server replays every shown
                                     transcript row after N, then sends `ready`
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
    (shapes: `adapters.web_render`); a live frame also has `reply_to`. A final frame the
    store does not hold (rare: a relay prompt) has `seq: null` and is not replayed.
  {"type":"ready","last_seq":N,"name":...}  replay finished; N is the page's new cursor
  {"type":"error","code":"bad_frame","text":...}  a malformed frame; the socket stays open
  {"type":"signed_out"}              then close code 4401

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
import contextlib
import logging
from collections import defaultdict
from typing import Any

from aiohttp import WSMsgType, web

from adapters.tasks import TaskGroup
from adapters.web_protocol import (
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
from adapters.web_render import (
    EVENT_PREFIX,
    Frame,
    is_confirm_text,
    is_final,
    render_reply,
    render_stored,
    reply_text,
)
from adapters.web_session import CHANNEL, WidgetSessions, WidgetUser, origin_refused
from bot.engine import Engine
from bot.messages import ActionInvoke, AgentMessage, Inbound, Message, Reply
from bot.store.records import Message as StoredMessage
from bot.store.store import Store

log = logging.getLogger(__name__)

HEARTBEAT_S = 25.0  # WebSocket pings: a dead peer (sleeping laptop) is noticed and dropped
SEND_TIMEOUT_S = 10.0
TURN_TIMEOUT_S = 180.0  # backstop; the engine answers (maybe degraded) well before
REPLAY_PAGE = 200
CLOSE_SIGNED_OUT = 4401
FAILED_TEXT = "Sorry — something went wrong on our side and your message was not handled."


class LiveSocket:
    """One open widget WebSocket: the wire, the signed-in user and the transcript cursor."""

    def __init__(self, ws: web.WebSocketResponse, user: WidgetUser) -> None:
        self.ws = ws
        self.user = user
        self.cursor: int | None = None  # None until the page's hello
        self.send_lock = asyncio.Lock()
        self.sync_lock = asyncio.Lock()

    @property
    def conversation_key(self) -> str:
        return self.user.user_key

    async def send(self, frame: Frame) -> bool:
        if self.ws.closed:
            return False
        async with self.send_lock:
            try:
                async with asyncio.timeout(SEND_TIMEOUT_S):
                    await self.ws.send_json(frame)
            except (ConnectionError, TimeoutError, RuntimeError):
                return False
        return True


class WebDelivery:
    """Live widget sockets by conversation key, and the one way frames reach them.

    `deliver(conversation_key, reply)` is the widget's proactive sender for the handoff
    relay (issue 6): the relay stores the message first, then calls it; every live socket
    of the conversation gets the frame at once, and a page that is offline gets the stored
    row by replay when it reconnects. It returns True when the reply is in the transcript
    (so it will reach the user) or reached a live socket.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._sockets: dict[str, set[LiveSocket]] = defaultdict(set)
        self._conversation_ids: dict[str, int] = {}

    def attach(self, socket: LiveSocket) -> None:
        self._sockets[socket.conversation_key].add(socket)

    def detach(self, socket: LiveSocket) -> None:
        sockets = self._sockets.get(socket.conversation_key)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[socket.conversation_key]

    def sockets(self, conversation_key: str) -> list[LiveSocket]:
        return list(self._sockets.get(conversation_key, ()))

    async def conversation_id(self, conversation_key: str) -> int | None:
        cached = self._conversation_ids.get(conversation_key)
        if cached is None:
            conversation = await self._store.find_conversation(CHANNEL, conversation_key)
            if conversation is None:
                return None
            cached = self._conversation_ids[conversation_key] = conversation.id
        return cached

    async def deliver(self, conversation_key: str, reply: Reply) -> bool:
        """Push a reply the relay (or anything outside a turn) produced; see the class doc."""
        frame = render_reply(reply)
        seq = await self._stored_seq(conversation_key, reply) if is_final(reply) else None
        reached = await self.publish(conversation_key, frame, seq=seq)
        return seq is not None or reached > 0

    async def publish(self, conversation_key: str, frame: Frame, *, seq: int | None = None) -> int:
        """Send `frame` to every live socket of the conversation that has said hello; with
        a `seq`, first catch each socket up to it. Returns how many sockets have it now."""
        reached = 0
        for socket in self.sockets(conversation_key):
            if socket.cursor is None:
                continue
            if seq is None:
                reached += await socket.send(frame)
                continue
            await self.sync(socket, upto=seq, override={seq: frame})
            reached += socket.cursor is not None and socket.cursor >= seq
        return reached

    async def sync(
        self,
        socket: LiveSocket,
        *,
        upto: int | None = None,
        override: dict[int, Frame] | None = None,
        restart_at: int | None = None,
    ) -> None:
        """Send the socket every shown transcript row after its cursor (up to `upto`),
        using a live frame from `override` where one exists for that seq."""
        async with socket.sync_lock:
            if restart_at is not None:
                socket.cursor = restart_at
            if socket.cursor is None:
                return
            conversation_id = await self.conversation_id(socket.conversation_key)
            if conversation_id is None:
                return
            while upto is None or socket.cursor < upto:
                rows = await self._store.messages_after(
                    conversation_id, after_seq=socket.cursor, limit=REPLAY_PAGE
                )
                frames = await self._replay_frames(conversation_id, rows, override or {})
                for row, frame in frames:
                    if upto is not None and row.seq > upto:
                        return
                    if frame is not None and not await socket.send(frame):
                        return  # the socket is gone; its page replays from its own seq
                    socket.cursor = row.seq
                if len(rows) < REPLAY_PAGE:
                    return

    async def sync_all(self, conversation_key: str) -> None:
        for socket in self.sockets(conversation_key):
            await self.sync(socket)

    async def close_conversation(self, conversation_key: str, *, frame: Frame, code: int) -> None:
        for socket in self.sockets(conversation_key):
            await socket.send(frame)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await socket.ws.close(code=code, message=frame["type"].encode())

    async def close_all(self) -> None:
        for key in list(self._sockets):
            for socket in self.sockets(key):
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await socket.ws.close(code=1001, message=b"server shutdown")

    async def _replay_frames(
        self, conversation_id: int, rows: list[StoredMessage], override: dict[int, Frame]
    ) -> list[tuple[StoredMessage, Frame | None]]:
        confirms = [r for r in rows if r.role == "notice" and is_confirm_text(r.content)]
        live = None
        if confirms and confirms[-1].seq not in override:
            pending = await self._store.latest_pending_action(conversation_id)
            # Only the newest confirm row can belong to the newest live pending action.
            if pending is not None and confirms[-1].created_at >= pending.created_at:
                live = (confirms[-1].seq, pending)
        frames: list[tuple[StoredMessage, Frame | None]] = []
        for row in rows:
            if row.seq in override:
                frames.append((row, {**override[row.seq], "seq": row.seq}))
                continue
            pending_here = live[1] if live is not None and live[0] == row.seq else None
            frames.append((row, render_stored(row, live_confirm=pending_here)))
        return frames

    async def _stored_seq(self, conversation_key: str, reply: Reply) -> int | None:
        """The transcript seq of a reply stored outside a turn: by its message id when it
        has one, else the newest shown row with the same text."""
        conversation_id = await self.conversation_id(conversation_key)
        if conversation_id is None:
            return None
        if isinstance(reply, (Message, AgentMessage)) and reply.message_id is not None:
            row = await self._store.get_message(reply.message_id)
            if row is not None and row.conversation_id == conversation_id:
                return row.seq
        text = reply_text(reply)
        for row in reversed(await self._store.recent_messages(conversation_id, limit=20)):
            if row.role in ("agent", "notice", "assistant") and row.content == text:
                return row.seq
        return None


class WebChat:
    """Serves `/widget/ws`: checks the handshake, reads frames, runs turns in owned tasks."""

    def __init__(
        self,
        *,
        engine: Engine,
        store: Store,
        sessions: WidgetSessions,
        delivery: WebDelivery,
        tasks: TaskGroup,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._engine = engine
        self._store = store
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
                {"error": "not_signed_in", "message": "Please sign in to chat."}, status=403
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
                    await socket.send(_bad("The chat sent a binary frame; it was ignored."))
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
            await self._delivery.sync(socket, restart_at=frame.last_seq)
            ready = {"type": "ready", "last_seq": socket.cursor, "name": socket.user.name}
            await socket.send(ready)
        else:
            await self._on_user_event(socket, frame)

    async def _on_user_event(self, socket: LiveSocket, frame: MessageFrame | ActionFrame) -> None:
        if isinstance(frame, MessageFrame):
            if not frame.text.strip():
                await socket.send(_bad("An empty message was ignored."))
                return
            if (too_large := check_message_size(frame)) is not None:
                await socket.send(_rejected(too_large))
                return
        if not await self._sessions.is_live(socket.user):
            await self._delivery.close_conversation(
                socket.conversation_key, frame={"type": "signed_out"}, code=CLOSE_SIGNED_OUT
            )
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
            text = "The chat is restarting. Your message will be sent again when it is back."
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
                    seq = await self._turn_seq(key, reply, inbound, claimed)
                    await self._delivery.publish(key, frame, seq=seq)
        except Exception:
            log.exception("A widget turn failed")
            if acked:
                failed = {"type": "error", "code": "failed", "text": FAILED_TEXT, "seq": None}
                await self._delivery.publish(key, {**failed, "reply_to": client_id})
            else:
                await socket.send(_rejected(Rejected(client_id, "failed", FAILED_TEXT)))
        finally:
            await self._delivery.publish(key, {"type": "done", "reply_to": client_id})
            await self._delivery.sync_all(key)

    async def _turn_seq(
        self, key: str, reply: Reply, inbound: Inbound, claimed: set[int]
    ) -> int | None:
        """The seq of the row the engine stored for this final reply of the turn."""
        if not is_final(reply) or inbound.event_id is None:
            return None
        conversation_id = await self._delivery.conversation_id(key)
        if conversation_id is None:
            return None
        if isinstance(reply, Message) and reply.message_id is not None:
            row = await self._store.get_message(reply.message_id)
            if row is not None and row.conversation_id == conversation_id:
                claimed.add(row.id)
                return row.seq
        # Confirm requests, handoff notes and errors carry no id: the engine stores each as
        # the newest reply to this inbound just before yielding it.
        for row in reversed(await self._store.replies_for_event(conversation_id, inbound.event_id)):
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
