"""Splits a user's message into the parts the helpdesk chat takes (10,000 characters each).

The helpdesk keeps the record of every conversation, so a long message is copied whole, in
numbered parts, rather than refused or silently cut. `MAX_PARTS` parts hold anything a
channel lets a user send in one message (Slack 40,000 characters, the widget's 64 KiB
frame); past them (a 1 MB event) the rest is left out with a visible marker saying how
much, so the record never has a gap nobody can see. The markers are for the agents who read
the record (`prompts/notes/chat_part.md`, `chat_part_cut.md`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import prompts

#: The helpdesk chat's limit on one message (API reference: POST /chat/{id}/messages).
CHAT_MESSAGE_CHARS = 10_000
MAX_PARTS = 7  # 7 × ~9,990 characters > 65,536
# A part may end this far before its limit to end at a space or line break, not mid-word.
_BREAK_WINDOW = 500


@dataclass(frozen=True, slots=True)
class ChatParts:
    parts: tuple[str, ...]  # what to send, in order
    total: int  # characters of the message
    omitted: int = 0  # characters left out after the last part (0: copied whole)


def split_for_chat(
    text: str, *, limit: int = CHAT_MESSAGE_CHARS, max_parts: int = MAX_PARTS
) -> ChatParts:
    """`text` as one message if it fits, else numbered parts of at most `limit` characters."""
    if len(text) <= limit:
        return ChatParts((text,), total=len(text))
    room = limit - len(_part_marker(max_parts, max_parts))
    chunks: list[str] = []
    rest = text
    while rest and len(chunks) < max_parts:
        last = len(chunks) == max_parts - 1
        size = room - len(_cut_marker(len(rest))) if last and len(rest) > room else room
        chunk, rest = _cut(rest, size)
        chunks.append(chunk)
    parts = [_part_marker(i, len(chunks)) + chunk for i, chunk in enumerate(chunks, start=1)]
    if rest:
        parts[-1] += _cut_marker(len(rest))
    return ChatParts(tuple(parts), total=len(text), omitted=len(rest))


def _cut(text: str, size: int) -> tuple[str, str]:
    """The first at most `size` characters, ended at whitespace near the end if there is one."""
    if len(text) <= size:
        return text, ""
    head = text[:size]
    space = max(head.rfind(" "), head.rfind("\n"))
    end = space + 1 if space >= size - _BREAK_WINDOW else size
    return text[:end], text[end:]


def _part_marker(index: int, count: int) -> str:
    return prompts.note("chat_part", index=index, count=count) + " "


def _cut_marker(omitted: int) -> str:
    return "\n\n" + prompts.note("chat_part_cut", omitted=f"{omitted:,}")
