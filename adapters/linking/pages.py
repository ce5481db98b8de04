"""Renders the account-link pages (sign-in form, linked, refused) as self-contained HTML.

Pure functions from values to markup: no I/O, no framework. Every page carries its CSS
inline and nothing else (no scripts, no fonts, no CDN); the style element is allowed by its
hash in `CONTENT_SECURITY_POLICY`, so the policy needs no 'unsafe-inline'. Everything that
comes from outside (tenant and user names, provider names and URLs, error text) is escaped.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Literal
from urllib.parse import urlsplit

from bot.linking import LINK_TTL_S, LinkProblem

CSRF_FIELD = "csrf_token"

_STYLE = """
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#f4f6f8;--card:#fff;
--line:#d0d7de;--accent:#0b5cad;--accent-fg:#fff;--bad:#a40e26;--bad-bg:#ffebe9;--ok:#116329}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;
--card:#161b22;--line:#30363d;--accent:#4493f8;--accent-fg:#0d1117;--bad:#ff9492;
--bad-bg:#3c1618;--ok:#56d364}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
main{max-width:26rem;margin:2rem auto;padding:1.5rem;background:var(--card);
border:1px solid var(--line);border-radius:12px}
@media (max-width:30rem){main{margin:0;border-radius:0;border-width:0 0 1px}}
.brand{margin:0 0 .25rem;color:var(--muted);font-size:.9rem;font-weight:600}
h1{margin:0 0 1rem;font-size:1.4rem;line-height:1.25}
p{margin:0 0 1rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input{width:100%;padding:.6rem .7rem;font:inherit;color:inherit;background:transparent;
border:1px solid var(--line);border-radius:8px}
input[aria-invalid=true]{border-color:var(--bad)}
button,.provider{display:block;width:100%;margin-top:1.25rem;padding:.7rem;font:inherit;
font-weight:600;text-align:center;text-decoration:none;border-radius:8px;cursor:pointer}
button{color:var(--accent-fg);background:var(--accent);border:0}
.provider{margin-top:.6rem;color:var(--fg);background:transparent;border:1px solid var(--line)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.alert{padding:.75rem;margin:0 0 1rem;color:var(--bad);background:var(--bad-bg);
border-radius:8px}
.or{margin:1.25rem 0 0;color:var(--muted);text-align:center;font-size:.9rem}
.fine{margin:1.25rem 0 0;color:var(--muted);font-size:.85rem}
.done{color:var(--ok)}
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; style-src 'sha256-{_STYLE_HASH}'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

_CHANNEL_LABELS = {"slack": "Slack", "teams": "Microsoft Teams", "web": "the chat"}


def channel_label(channel: str) -> str:
    """How the user knows the channel they came from ("slack" → "Slack")."""
    return _CHANNEL_LABELS.get(channel, channel.capitalize() or "the chat")


@dataclass(frozen=True, slots=True)
class ProviderLink:
    """A social sign-in button: the provider's name and where it sends the browser."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class SignInForm:
    """What the sign-in page shows. The form posts back to the page's own URL."""

    tenant_name: str
    channel: str
    csrf_token: str
    providers: Sequence[ProviderLink] = field(default_factory=tuple)
    display_name: str | None = None
    username: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a link cannot be used, and what to do next."""

    title: str
    message: str
    next_step: str


def render_sign_in(form: SignInForm) -> str:
    channel = channel_label(form.channel)
    greeting = f"Hi {escape(form.display_name)}, s" if form.display_name else "S"
    invalid = ' aria-invalid="true" aria-describedby="form-error"' if form.error else ""
    alert = (
        f'<p class="alert" role="alert" id="form-error">{escape(form.error)}</p>'
        if form.error
        else ""
    )
    # Focus where the user types next: the password after a failed attempt.
    user_focus, password_focus = (
        ("", " autofocus") if form.error and form.username else (" autofocus", "")
    )
    body = f"""{alert}<p>{greeting}ign in with your {escape(form.tenant_name)} account to \
connect it to {escape(channel)}. Your password is sent to the helpdesk once to sign you in; \
it is never stored.</p>
<form method="post">
<input type="hidden" name="{CSRF_FIELD}" value="{escape(form.csrf_token)}">
<label for="username">Email</label>
<input id="username" name="username" type="text" inputmode="email" autocomplete="username" \
autocapitalize="none" spellcheck="false" required maxlength="320" \
value="{escape(form.username)}"{invalid}{user_focus}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" \
required maxlength="1000"{invalid}{password_focus}>
<button type="submit">Sign in</button>
</form>
{_render_providers(form.providers)}<p class="fine">This link works once and expires \
{LINK_TTL_S // 60} minutes after the assistant sent it.</p>"""
    return _page(form.tenant_name, "Link your helpdesk account", body)


def render_linked(*, tenant_name: str, helpdesk_name: str, channel: str, resumes: bool) -> str:
    label = escape(channel_label(channel))
    then = (
        "The assistant will answer your question there."
        if resumes
        else f"You can now ask the assistant your questions in {label}."
    )
    body = f"""<p class="done" role="status">You're linked as \
<strong>{escape(helpdesk_name)}</strong> — you can close this tab and return to {label}.</p>
<p>{then}</p>
<p class="fine">To disconnect later, ask the assistant to unlink your account.</p>"""
    return _page(tenant_name, "You're linked", body)


def render_refused(*, tenant_name: str, refusal: Refusal, retry_url: str | None = None) -> str:
    retry = f'<p><a href="{escape(retry_url)}">Back to sign-in</a></p>' if retry_url else ""
    body = f"""<p class="alert" role="alert">{escape(refusal.message)}</p>
<p>{escape(refusal.next_step)}</p>
{retry}"""
    return _page(tenant_name, refusal.title, body)


RefusalKind = LinkProblem | Literal["csrf", "locked"]


def refusal_for(kind: RefusalKind, *, channel: str | None = None) -> Refusal:
    """The page text for a link that cannot be used (or a form that cannot be accepted)."""
    where = channel_label(channel) if channel else "the chat"
    new_link = f"Send the assistant any message in {where} and it will give you a new link."
    if kind == "expired":
        return Refusal(
            "This link has expired",
            f"Links work for {LINK_TTL_S // 60} minutes after the assistant sends them.",
            new_link,
        )
    if kind == "used":
        return Refusal(
            "This link has already been used",
            "Each link can be used once, and this one was.",
            f"If you just signed in, you're linked: return to {where}. To link a different "
            "account, ask the assistant to unlink first, then use the new link it sends.",
        )
    if kind == "busy":
        return Refusal(
            "This link is in use",
            "This link is being used in another window right now.",
            "Wait a moment, then reload this page.",
        )
    if kind == "csrf":
        return Refusal(
            "Please try again",
            "This sign-in form has expired or was opened in another browser.",
            "Open the link from the assistant again in this browser and sign in there.",
        )
    if kind == "locked":
        return Refusal(
            "Too many attempts",
            "This link was used for too many unsuccessful sign-ins.",
            new_link + " If you forgot your password, reset it on the helpdesk first.",
        )
    return Refusal(
        "This link isn't valid",
        "The link is incomplete or was changed.",
        "Open the link exactly as the assistant sent it, or " + new_link[0].lower() + new_link[1:],
    )


def safe_link(url: str) -> bool:
    """Only http(s) URLs become hrefs, whatever the helpdesk sends (no javascript: links)."""
    parts = urlsplit(url)
    return parts.scheme in ("https", "http") and bool(parts.netloc)


def _render_providers(providers: Sequence[ProviderLink]) -> str:
    if not providers:
        return ""
    buttons = "\n".join(
        f'<a class="provider" href="{escape(p.url)}">Continue with {escape(p.name)}</a>'
        for p in providers
    )
    return f'<p class="or">or</p>\n<nav aria-label="Other ways to sign in">\n{buttons}\n</nav>\n'


def _page(tenant_name: str, title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{escape(title)} · {escape(tenant_name)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<p class="brand">{escape(tenant_name)}</p>
<h1>{escape(title)}</h1>
{body}
</main>
</body>
</html>
"""
