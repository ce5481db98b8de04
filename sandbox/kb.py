"""Knowledge-base articles of the sandbox: JSON shapes and full-text ranking.

Ranking: each query term (lower-cased, stop words dropped, simple suffix stemming) scores
by where it occurs — title 6, tags 4, summary 2, body 1 (+ a little for repeats) — so
"vpn keeps disconnecting" puts VPN articles first.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.state import SandboxState

_WORD = re.compile(r"[a-z0-9]+")
_STOP_TEXT = (
    "a an and are as at be but by can cannot could do does doesn don for from get got has have "
    "help hi hello how i i'm if in into is it its keep keeps me my no not of on or our please "
    "so still the their there this to too up us was we what when where which why will with "
    "won work working wont you your"
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())
_TITLE, _TAG, _SUMMARY, _BODY = 6.0, 4.0, 2.0, 1.0


def stem(word: str) -> str:
    """A deliberately small stemmer: strip -ing, -ed, plural -s."""
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Query or document terms: lower-cased, stemmed; stop words removed."""
    lowered = text.lower().replace("wi-fi", "wifi").replace("e-mail", "email")
    return [stem(w) for w in _WORD.findall(lowered) if w not in _STOP_WORDS]


def _tags(row: dict[str, Any]) -> list[str]:
    try:
        tags = json.loads(row["tags"])
    except (TypeError, ValueError):
        return []
    return [str(tag) for tag in tags] if isinstance(tags, list) else []


def score(row: dict[str, Any], query_terms: list[str]) -> float:
    title = set(terms(row["title"]))
    tags = set(terms(" ".join(_tags(row))))
    summary = set(terms(row["summary"]))
    body = terms(row["body"])
    body_set = set(body)
    total = 0.0
    for term in set(query_terms):
        if term in title:
            total += _TITLE
        if term in tags:
            total += _TAG
        if term in summary:
            total += _SUMMARY
        if term in body_set:
            total += _BODY + min(body.count(term), 5) * 0.1
    return total


def ranked(rows: list[dict[str, Any]], query: str) -> list[tuple[float, dict[str, Any]]]:
    """Rows that match `query`, best first (ties by article id)."""
    query_terms = terms(query)
    if not query_terms:
        return []
    scored = [(score(row, query_terms), row) for row in rows]
    matches = [(s, row) for s, row in scored if s > 0]
    matches.sort(key=lambda pair: (-pair[0], pair[1]["article_id"]))
    return matches


def company_articles(state: SandboxState, company_number: int) -> list[dict[str, Any]]:
    return state.db.all(
        "SELECT * FROM articles WHERE company_number = ? ORDER BY article_id", (company_number,)
    )


def article_url(base: str, article_id: int) -> str:
    return f"{base}/helpdesk/kb/{article_id}"


def summary_json(row: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        "article_id": row["article_id"],
        "title": row["title"],
        "category": row["category"],
        "summary": row["summary"],
        "url": article_url(base, row["article_id"]),
        "tags": _tags(row),
        "updated_at": row["updated_at"],
    }


def detail_json(state: SandboxState, row: dict[str, Any], base: str) -> dict[str, Any]:
    """The article with its body and up to three related articles of the same company."""
    others = [
        r
        for r in company_articles(state, row["company_number"])
        if r["article_id"] != row["article_id"]
    ]
    related_query = " ".join([row["title"], *_tags(row)])
    related = [
        {"type": "article", "id": other["article_id"], "title": other["title"]}
        for _, other in ranked(others, related_query)[:3]
    ]
    return {**summary_json(row, base), "body": row["body"], "related": related}


def best_article(state: SandboxState, company_number: int, text: str) -> dict[str, Any] | None:
    """The company's article that best answers `text`, if any term hits a title or tag."""
    matches = ranked(company_articles(state, company_number), text)
    if not matches or matches[0][0] < _TAG:
        return None
    return matches[0][1]
