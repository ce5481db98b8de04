"""A long message is split into the helpdesk chat's 10,000-character parts with no gap."""

from __future__ import annotations

import re

from bot.chat_parts import CHAT_MESSAGE_CHARS, MAX_PARTS, split_for_chat

_MARKER = re.compile(r"^\(part (\d+) of (\d+)\) ")


def _words(count: int) -> str:
    return " ".join(f"word{i}" for i in range(count))


def _content(parts: tuple[str, ...]) -> str:
    """The parts without their markers, with whitespace dropped (the chat strips each part)."""
    return "".join("".join(_MARKER.sub("", part).split()) for part in parts)


def test_a_message_that_fits_is_sent_as_it_is() -> None:
    text = "x" * CHAT_MESSAGE_CHARS
    split = split_for_chat(text)
    assert split.parts == (text,) and split.omitted == 0


def test_a_long_message_goes_in_numbered_parts_with_nothing_missing() -> None:
    text = _words(3500)  # ~30,000 characters
    split = split_for_chat(text)
    assert len(split.parts) == 4 and split.omitted == 0
    assert all(len(part) <= CHAT_MESSAGE_CHARS for part in split.parts)
    numbers = [_MARKER.match(part) for part in split.parts]
    assert [(m.group(1), m.group(2)) for m in numbers if m] == [(str(i), "4") for i in (1, 2, 3, 4)]
    assert _content(split.parts) == "".join(text.split())
    assert all(re.search(r"word\d+$", part.rstrip()) for part in split.parts), "cut mid-word"


def test_past_the_last_part_the_rest_is_left_out_with_a_visible_marker() -> None:
    text = "#" * 1_000_000  # no spaces: parts end exactly at the limit
    split = split_for_chat(text)
    assert len(split.parts) == MAX_PARTS
    assert all(len(part) <= CHAT_MESSAGE_CHARS for part in split.parts)
    kept = sum(part.count("#") for part in split.parts)
    assert kept + split.omitted == len(text) and split.omitted > 900_000
    assert f"{split.omitted:,} more characters" in split.parts[-1]


def test_the_largest_message_a_channel_takes_is_copied_whole() -> None:
    """The widget's 64 KiB frame (Slack's 40,000 characters is less): nothing left out."""
    split = split_for_chat("z" * 65_536)
    assert split.omitted == 0 and len(split.parts) <= MAX_PARTS
