"""The terminal channel: `helpdesk-bot chat`, interactive in a TTY, scriptable through a pipe.

In a TTY the reply streams as it is generated. Through a pipe, each input line is one user
message and each reply is printed whole, so a script can drive a conversation; a
confirm-request is answered by a following line `yes` or `no`. Buttons are pressed by typing
their label ("Create a ticket", "Talk to a human", "Comment on 3012 instead").
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from dataclasses import dataclass, field
from typing import TextIO

from bot import prompts
from bot.engine import Engine
from bot.messages import (
    Action,
    ActionInvoke,
    AgentMessage,
    ConfirmRequest,
    ErrorReply,
    HandoffStatus,
    Inbound,
    LinkRequired,
    Message,
    Reply,
    TextDelta,
    Typing,
)

CHANNEL = "cli"


def render_reply(reply: Reply, *, streamed: bool = False) -> str | None:
    """A reply as terminal text; None for events a terminal does not show."""
    if isinstance(reply, (Typing, TextDelta)):
        return None
    if isinstance(reply, Message):
        lines = [] if streamed else [f"assistant> {reply.text}"]
        for index, source in enumerate(reply.sources, start=1):
            lines.append(f"  source [{index}] {source.title} — {source.url}")
        offers = [a.label for a in reply.actions if a.kind not in ("feedback",)]
        if offers:
            lines.append("  " + prompts.reply("terminal_you_can_type", offers=" | ".join(offers)))
        return "\n".join(lines) if lines else None
    if isinstance(reply, ConfirmRequest):
        lines = [f"confirm> {reply.title}"]
        lines += [f"  {field.label}: {field.value}" for field in reply.fields]
        lines += [f"  note: {notice}" for notice in reply.notices]
        extra = [a.label for a in reply.actions if a.kind not in ("confirm", "cancel")]
        hint = prompts.reply("terminal_confirm_hint")
        lines.append(f"  {hint}" + "".join(f" | {x}" for x in extra))
        return "\n".join(lines)
    if isinstance(reply, HandoffStatus):
        return f"status> {reply.text}"
    if isinstance(reply, AgentMessage):
        return f"agent {reply.agent_name}> {reply.text}"
    if isinstance(reply, LinkRequired):
        return f"link> {reply.text} {reply.url}"
    if isinstance(reply, ErrorReply):
        return f"error> {reply.text}"
    return None


@dataclass
class TerminalSession:
    engine: Engine
    user_key: str
    conversation_key: str
    out: TextIO
    interactive: bool
    _buttons: dict[str, Action] = field(default_factory=dict)

    def inbound_for(self, line: str) -> Inbound:
        """A typed line; the label of a button shown last presses that button."""
        button = self._buttons.get(line.strip().lower())
        action = ActionInvoke(button.id, button.value) if button is not None else None
        return Inbound(
            channel=CHANNEL,
            conversation_key=self.conversation_key,
            user_key=self.user_key,
            text=None if action else line,
            action=action,
            event_id=uuid.uuid4().hex,
        )

    async def send(self, line: str) -> None:
        streamed = False
        buttons: dict[str, Action] = {}
        async for reply in self.engine.handle(self.inbound_for(line)):
            if isinstance(reply, TextDelta) and self.interactive:
                if not streamed:
                    self.out.write("assistant> ")
                self.out.write(reply.text)
                self.out.flush()
                streamed = True
                continue
            if isinstance(reply, (Message, ConfirmRequest, ErrorReply)):
                for action in reply.actions:
                    if action.kind not in ("confirm", "cancel", "feedback"):
                        buttons[action.label.lower()] = action
            text = render_reply(reply, streamed=streamed and isinstance(reply, Message))
            if streamed and isinstance(reply, Message):
                self.out.write("\n")
                streamed = False
            if text:
                self.out.write(text + "\n")
                self.out.flush()
        self._buttons = buttons


async def run_chat(
    engine: Engine,
    *,
    user_key: str,
    conversation_key: str | None = None,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
) -> None:
    interactive = stdin.isatty() and out.isatty()
    session = TerminalSession(
        engine=engine,
        user_key=user_key,
        conversation_key=conversation_key or f"{user_key}:{uuid.uuid4().hex[:12]}",
        out=out,
        interactive=interactive,
    )
    if interactive:
        out.write(prompts.reply("terminal_welcome") + "\n")
    while True:
        if interactive:
            out.write("you> ")
            out.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            break
        if not interactive:
            out.write(f"you> {text}\n")
        await session.send(text)
