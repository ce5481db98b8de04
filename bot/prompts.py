"""Loads prompt text from `prompts/*.md` and renders it with `${name}` placeholders.

Prompt text lives only in `prompts/` (tool descriptions too, in `prompts/tools/`). A
placeholder left without a value is an error, not a silent blank in front of the model.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable


class PromptError(LookupError):
    """A prompt file is missing or a placeholder has no value."""


def _root() -> Traversable:
    return resources.files("prompts")


@cache
def load(name: str) -> str:
    """The raw text of `prompts/<name>.md` (`name` may contain one `/`, e.g. "tools/get_ticket")."""
    node = _root().joinpath(*f"{name}.md".split("/"))
    if not node.is_file():
        raise PromptError(f"no prompt named {name!r}")
    return node.read_text(encoding="utf-8").strip()


def render(name: str, /, **values: object) -> str:
    """`prompts/<name>.md` with every `${placeholder}` replaced; a missing value raises."""
    template = string.Template(load(name))
    try:
        return template.substitute({key: str(value) for key, value in values.items()})
    except (KeyError, ValueError) as exc:
        raise PromptError(f"prompt {name!r}: no value for placeholder {exc}") from exc


def placeholders(name: str) -> set[str]:
    """The placeholder names a prompt uses (for tests and for callers that build values)."""
    return set(string.Template(load(name)).get_identifiers())


def names() -> list[str]:
    """Every prompt, as names `load` accepts."""
    found: list[str] = []

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".md"):
                found.append(prefix + child.name[: -len(".md")])

    walk(_root(), "")
    return found
