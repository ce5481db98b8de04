"""Live widget sockets and the one way frames reach them: `WebDelivery`.

Each open socket (`LiveSocket`) has a transcript cursor: the highest seq it was sent. A
frame with a seq is sent only after every stored row between the cursor and it (rendered
from the store, `adapters.web_render.render_stored`), so each socket sees every transcript
row once and in order — whether the row came from a live turn, the handoff relay, or a
replay after a reconnect. `WebDelivery.deliver` is the widget's proactive sender for the
relay (issue 6); rows another replica wrote reach the sockets through
`adapters.web.follower`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from datetime import UTC, datetime

from aiohttp import web

from adapters.web.render import (
    Frame,
    is_confirm_text,
    is_final,
    render_reply,
    render_stored,
    reply_text,
)
from adapters.web.session import CHANNEL, WidgetUser
from bot.desk import Desk
from bot.messages import AgentMessage, Message, Reply
from bot.store.records import Message as StoredMessage
from bot.store.records import PendingAction

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 10.0
REPLAY_PAGE = 200


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

    def __init__(self, desk: Desk) -> None:
        self._desk = desk
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

    def live_keys(self) -> frozenset[str]:
        """The conversation keys with at least one open socket here."""
        return frozenset(self._sockets)

    def sockets(self, conversation_key: str) -> list[LiveSocket]:
        return list(self._sockets.get(conversation_key, ()))

    async def conversation_id(self, conversation_key: str) -> int | None:
        cached = self._conversation_ids.get(conversation_key)
        if cached is None:
            conversation = await self._desk.find_conversation(CHANNEL, conversation_key)
            if conversation is None:
                return None
            cached = self._conversation_ids[conversation_key] = conversation.id
        return cached

    async def deliver(self, conversation_key: str, reply: Reply) -> bool:
        """Push a reply the relay (or anything outside a turn) produced; see the class doc."""
        frame = render_reply(reply)
        seq = None
        if is_final(reply):
            seq = frame["seq"] = await self._stored_seq(conversation_key, reply)
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
                rows = await self._desk.messages_after(
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
        live_by_seq = await self._live_confirms(rows, override)
        confirms = [
            r for r in rows if r.role == "notice" and not r.meta and is_confirm_text(r.content)
        ]
        live = None
        if confirms and confirms[-1].seq not in override:
            pending = await self._desk.latest_pending_action(conversation_id)
            # Only the newest confirm row can belong to the newest live pending action.
            if pending is not None and confirms[-1].created_at >= pending.created_at:
                live = (confirms[-1].seq, pending)
        frames: list[tuple[StoredMessage, Frame | None]] = []
        for row in rows:
            if row.seq in override:
                frames.append((row, {**override[row.seq], "seq": row.seq}))
                continue
            pending_here = live[1] if live is not None and live[0] == row.seq else None
            pending_here = live_by_seq.get(row.seq, pending_here)
            frames.append((row, render_stored(row, live_confirm=pending_here)))
        return frames

    async def _live_confirms(
        self, rows: list[StoredMessage], override: dict[int, Frame]
    ) -> dict[int, PendingAction]:
        """Confirm cards (stored with their pending action) whose action still waits."""
        live: dict[int, PendingAction] = {}
        now = datetime.now(UTC)
        for row in rows:
            meta = row.meta or {}
            if meta.get("kind") != "confirm" or row.seq in override:
                continue
            action = await self._desk.get_pending_action(str(meta.get("pending_action_id")))
            if action is not None and action.status == "pending" and action.expires_at > now:
                live[row.seq] = action
        return live

    async def _stored_seq(self, conversation_key: str, reply: Reply) -> int | None:
        """The transcript seq of a reply stored outside a turn: by its message id when it
        has one, else the newest shown row with the same text."""
        conversation_id = await self.conversation_id(conversation_key)
        if conversation_id is None:
            return None
        if isinstance(reply, (Message, AgentMessage)) and reply.message_id is not None:
            row = await self._desk.get_message(reply.message_id)
            if row is not None and row.conversation_id == conversation_id:
                return row.seq
        text = reply_text(reply)
        for row in reversed(await self._desk.recent_messages(conversation_id, limit=20)):
            if row.role in ("agent", "notice", "assistant") and row.content == text:
                return row.seq
        return None
