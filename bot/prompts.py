"""Loads prompt text from `prompts/*.md` and renders it with `${name}` placeholders.

Every word the core and the channels write lives in `prompts/`, so a deployer can reword or
translate it without touching code: model prompts (`system.md`, `summarize.md`, ...), tool
descriptions (`tools/`), the sentences users read (`replies/`, via `reply`) and the facts
noted for the model or the agent (`notes/`, via `note`). A channel's own sentences are
`replies/<channel>_*` (`slack_`, `teams_`, `web_`, `terminal_`, `link_*` for the link
pages), those several channels say alike `channel_*`, button and field labels `label_*`.
Files are read when first used (then kept), so an edit takes effect at the next start. A
placeholder left without a value is an error, not a silent blank in front of the model or
the user.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from bot.errors import BotError


class PromptError(BotError, LookupError):
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


def reply(name: str, /, **values: object) -> str:
    """A sentence the user reads: `prompts/replies/<name>.md`, rendered."""
    return render(f"replies/{name}", **values)


def note(name: str, /, **values: object) -> str:
    """A fact written for the model or the agent: `prompts/notes/<name>.md`, rendered."""
    return render(f"notes/{name}", **values)


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
