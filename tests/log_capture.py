"""Capture the process's log records on a stream, with the product's own hygiene and format."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from bot.logcontext import ContextFilter
from bot.logging_setup import install


@contextmanager
def root_logs_to(
    stream: io.StringIO, *, fmt: str, level: int, output: Literal["text", "json"] = "text"
) -> Iterator[io.StringIO]:
    """Send every record at `level` and above to `stream`, through a handler set up as
    `serve` sets up its own (context filter, bounds, masking); undone on exit."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    install(handler, fmt=fmt, output=output)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
