"""The widget's Markdown renderer (`adapters/web/static/markdown.js`) under Node, fake DOM.

The fake DOM records the tree the renderer builds and throws if any HTML parsing sink
(`innerHTML`, `outerHTML`, `insertAdjacentHTML`) is touched, so these tests show both the
formatting and that model, KB or agent text can never become markup.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

MARKDOWN_JS = Path(__file__).parents[2] / "adapters" / "web" / "static" / "markdown.js"
NODE = shutil.which("node")

FAKE_DOM = r"""
class El {
  constructor(tag) { this.tag = tag; this.attrs = {}; this.children = []; }
  appendChild(child) {
    if (child.tag === "#fragment") { for (const c of child.children) this.children.push(c); }
    else this.children.push(child);
    return child;
  }
  setAttribute(name, value) { this.attrs[name] = String(value); }
  set textContent(text) { this.children = [{ text: String(text) }]; }
  set innerHTML(_) { throw new Error("innerHTML used"); }
  set outerHTML(_) { throw new Error("outerHTML used"); }
  insertAdjacentHTML() { throw new Error("insertAdjacentHTML used"); }
  toJSON() { return [this.tag, this.attrs, ...this.children.map((c) => c.tag ? c : c.text)]; }
}
const doc = {
  createElement: (tag) => new El(tag),
  createTextNode: (text) => ({ text: String(text) }),
  createDocumentFragment: () => new El("#fragment"),
};
require(process.argv[1]);
const inputs = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = inputs.map((text) => globalThis.HelpdeskMarkdown.render(text, doc).toJSON().slice(2));
process.stdout.write(JSON.stringify(out));
"""

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


def render(*texts: str) -> list[list[Any]]:
    assert NODE is not None
    completed = subprocess.run(
        [NODE, "-e", FAKE_DOM, str(MARKDOWN_JS)],
        input=json.dumps(list(texts)),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    rendered: list[list[Any]] = json.loads(completed.stdout)
    return rendered


def elements(tree: Any, tag: str) -> list[list[Any]]:
    """Every element named `tag` in a rendered tree."""
    found: list[list[Any]] = []
    if isinstance(tree, list):
        if tree and tree[0] == tag and isinstance(tree[1], dict):
            found.append(tree)
        for child in tree:
            found += elements(child, tag)
    return found


def text_of(tree: Any) -> str:
    if isinstance(tree, str):
        return tree
    if isinstance(tree, list):
        start = (
            2
            if tree and isinstance(tree[0], str) and len(tree) > 1 and isinstance(tree[1], dict)
            else 0
        )
        return "".join(text_of(child) for child in tree[start:])
    return ""


def test_html_stays_text() -> None:
    [tree] = render('<img src=x onerror="alert(1)"> <script>alert(2)</script>')

    assert tree == [["p", {}, '<img src=x onerror="alert(1)"> <script>alert(2)</script>']]


def test_links_are_http_only_and_open_safely() -> None:
    good, bad, data, bare = render(
        "[the article](https://help.example/kb/2)",
        "[click me](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        'see https://help.example/kb/2. and https://x.example/"onmouseover=alert(1)',
    )

    [link] = elements(good, "a")
    assert link[1] == {
        "href": "https://help.example/kb/2",
        "target": "_blank",
        "rel": "noopener noreferrer",
    }
    assert text_of(link) == "the article"
    assert elements(bad, "a") == [] and text_of(bad) == "click me"
    assert elements(data, "a") == []
    first, second = elements(bare, "a")
    assert first[1]["href"] == "https://help.example/kb/2"  # the full stop is prose
    assert second[1]["href"] == "https://x.example/"


def test_inline_formatting() -> None:
    [tree] = render("**Bold** then *italic*, _also_, `<b>code</b>` and snake_case_name")

    assert elements(tree, "strong")[0][2] == "Bold"
    assert [e[2] for e in elements(tree, "em")] == ["italic", "also"]
    assert elements(tree, "code") == [["code", {}, "<b>code</b>"]]
    assert text_of(tree).endswith("and snake_case_name")


def test_blocks() -> None:
    [tree] = render(
        "Steps:\n1. Open **Settings**\n2. Click Refresh\n\n- one\n- two\n  continued\n\n"
        "> quoted\n\n```\n<code block>\n```\n# Heading\nline one\nline two"
    )

    kinds = [block[0] for block in tree]
    assert kinds == ["p", "ol", "ul", "blockquote", "pre", "p", "p"]
    ordered, bullets = tree[1], tree[2]
    assert [text_of(item) for item in ordered[2:]] == ["Open Settings", "Click Refresh"]
    assert [text_of(item) for item in bullets[2:]] == ["one", "twocontinued"]
    assert elements(bullets, "br")  # the continuation line stays a line
    assert text_of(tree[4]) == "<code block>"
    assert elements(tree[5], "strong")[0][2] == "Heading"
    assert elements(tree[6], "br") and text_of(tree[6]) == "line oneline two"


def test_a_numbered_list_keeps_its_start() -> None:
    [tree] = render("3. third\n4. fourth")

    assert tree[0][:2] == ["ol", {"start": "3"}]


def test_unbalanced_markers_are_left_alone() -> None:
    [tree] = render("2 * 3 = 6 and a lone ** and [no link")

    assert text_of(tree) == "2 * 3 = 6 and a lone ** and [no link"
    assert not elements(tree, "em") and not elements(tree, "strong")
