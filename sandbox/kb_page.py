"""Renders a KB article's Markdown as safe HTML: everything is escaped before any markup."""

from __future__ import annotations

import html
import re

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?!\w)")
_CODE = re.compile(r"`([^`]+)`")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=True)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _ITALIC.sub(r"<em>\1</em>", escaped)


def markdown_to_html(markdown: str) -> str:
    """A small Markdown subset: headings, lists, fenced code, paragraphs, bold, italics, code."""
    out: list[str] = []
    paragraph: list[str] = []
    list_tag: str | None = None
    in_code = False

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            out.append("<p>" + " ".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if list_tag:
            out.append(f"</{list_tag}>")
            list_tag = None

    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            flush()
            out.append("</code></pre>" if in_code else "<pre><code>")
            in_code = not in_code
            continue
        if in_code:
            out.append(html.escape(line) + "\n")
            continue
        if not line.strip():
            flush()
            continue
        if heading := _HEADING.match(line):
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            continue
        item = _BULLET.match(line)
        tag = "ul"
        if item is None:
            item, tag = _NUMBERED.match(line), "ol"
        if item is not None:
            if paragraph or list_tag != tag:
                flush()
                out.append(f"<{tag}>")
                list_tag = tag
            out.append(f"<li>{_inline(item.group(1))}</li>")
            continue
        if list_tag:
            flush()
        paragraph.append(line.strip())
    flush()
    if in_code:
        out.append("</code></pre>")
    return "\n".join(out)


def article_page(*, title: str, category: str, updated_at: str, body: str, tenant: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · {html.escape(tenant)} Help Center</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       color: #1A1F36; line-height: 1.55; }}
header {{ border-bottom: 3px solid #0B5FFF; margin-bottom: 1.5rem; }}
.meta {{ color: #5a6275; font-size: .9rem; }}
pre {{ background: #f4f6fa; padding: .75rem; overflow-x: auto; }}
code {{ background: #f4f6fa; padding: 0 .2rem; }}
</style></head>
<body><header><p class="meta">{html.escape(tenant)} Help Center · {html.escape(category)}</p>
<h1>{html.escape(title)}</h1>
<p class="meta">Updated {html.escape(updated_at)}</p></header>
<article>
{markdown_to_html(body)}
</article></body></html>
"""
