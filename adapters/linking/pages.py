"""Renders the account-link pages (sign-in form, linked, refused) as self-contained HTML.

The markup and the CSS are template files in `templates/` (read once, at import), so a
deployer can restyle or reword them without touching code; the titles, refusals and other
sentences are `prompts/replies/link_form_*`, `link_done_*` and `link_refused_*`. This
module fills the templates with `string.Template` — every value (tenant and user names,
provider names and URLs, error text, the sentences) escaped first. Every page carries its
CSS inline and nothing else (no scripts, no fonts, no CDN); the style element is allowed by
its hash in `CONTENT_SECURITY_POLICY`, so the policy needs no 'unsafe-inline'.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from string import Template
from typing import Literal
from urllib.parse import urlsplit

from bot import prompts
from bot.linking import LINK_TTL_S, LinkProblem

CSRF_FIELD = "csrf_token"

_TEMPLATES = Path(__file__).with_name("templates")


def _template(name: str) -> Template:
    return Template((_TEMPLATES / name).read_text(encoding="utf-8"))


_STYLE = (_TEMPLATES / "style.css").read_text(encoding="utf-8")
_PAGE = _template("page.html")
_SIGN_IN = _template("sign_in.html")
_LINKED = _template("linked.html")
_REFUSED = _template("refused.html")
_PROVIDERS = _template("providers.html")

_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; style-src 'sha256-{_STYLE_HASH}'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

_CHANNEL_LABELS = {"slack": "Slack", "teams": "Microsoft Teams"}  # product names stay as they are


def channel_label(channel: str) -> str:
    """How the user knows the channel they came from ("slack" → "Slack")."""
    if channel in _CHANNEL_LABELS:
        return _CHANNEL_LABELS[channel]
    if channel in ("web", ""):
        return prompts.reply("link_channel_web")
    return channel.capitalize()


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
    greeting = (
        prompts.reply("link_form_greeting_named", name=form.display_name)
        if form.display_name
        else prompts.reply("link_form_greeting")
    )
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
    body = _SIGN_IN.substitute(
        alert=alert,
        greeting=escape(greeting),
        tenant=escape(form.tenant_name),
        channel=escape(channel),
        csrf_field=CSRF_FIELD,
        csrf_token=escape(form.csrf_token),
        username=escape(form.username),
        invalid=invalid,
        user_focus=user_focus,
        password_focus=password_focus,
        providers=_render_providers(form.providers),
        minutes=LINK_TTL_S // 60,
    )
    return _page(form.tenant_name, prompts.reply("link_form_title"), body)


def render_linked(*, tenant_name: str, helpdesk_name: str, channel: str, resumes: bool) -> str:
    label = channel_label(channel)
    then = (
        prompts.reply("link_done_resumes")
        if resumes
        else prompts.reply("link_done_ask", channel=label)
    )
    body = _LINKED.substitute(
        helpdesk_name=escape(helpdesk_name), channel=escape(label), then=escape(then)
    )
    return _page(tenant_name, prompts.reply("link_done_title"), body)


def render_refused(*, tenant_name: str, refusal: Refusal, retry_url: str | None = None) -> str:
    back = escape(prompts.reply("link_refused_back_to_sign_in"))
    retry = f'<p><a href="{escape(retry_url)}">{back}</a></p>' if retry_url else ""
    body = _REFUSED.substitute(
        message=escape(refusal.message), next_step=escape(refusal.next_step), retry=retry
    )
    return _page(tenant_name, refusal.title, body)


RefusalKind = LinkProblem | Literal["csrf", "locked"]


def refusal_for(kind: RefusalKind, *, channel: str | None = None) -> Refusal:
    """The page text for a link that cannot be used (or a form that cannot be accepted)."""
    where = channel_label(channel or "")
    if kind == "expired":
        return Refusal(
            prompts.reply("link_refused_expired_title"),
            prompts.reply("link_refused_expired_message", minutes=LINK_TTL_S // 60),
            prompts.reply("link_refused_new_link", where=where),
        )
    if kind == "used":
        return Refusal(
            prompts.reply("link_refused_used_title"),
            prompts.reply("link_refused_used_message"),
            prompts.reply("link_refused_used_next", where=where),
        )
    if kind == "busy":
        return Refusal(
            prompts.reply("link_refused_busy_title"),
            prompts.reply("link_refused_busy_message"),
            prompts.reply("link_refused_busy_next"),
        )
    if kind == "csrf":
        return Refusal(
            prompts.reply("link_refused_csrf_title"),
            prompts.reply("link_refused_csrf_message"),
            prompts.reply("link_refused_csrf_next"),
        )
    if kind == "locked":
        return Refusal(
            prompts.reply("link_refused_locked_title"),
            prompts.reply("link_refused_locked_message"),
            prompts.reply("link_refused_locked_next", where=where),
        )
    return Refusal(
        prompts.reply("link_refused_invalid_title"),
        prompts.reply("link_refused_invalid_message"),
        prompts.reply("link_refused_invalid_next", where=where),
    )


def safe_link(url: str) -> bool:
    """Only http(s) URLs become hrefs, whatever the helpdesk sends (no javascript: links)."""
    parts = urlsplit(url)
    return parts.scheme in ("https", "http") and bool(parts.netloc)


def _render_providers(providers: Sequence[ProviderLink]) -> str:
    if not providers:
        return ""
    buttons = "\n".join(
        f'<a class="provider" href="{escape(p.url)}">'
        f"{escape(prompts.reply('link_form_continue_with', name=p.name))}</a>"
        for p in providers
    )
    return _PROVIDERS.substitute(buttons=buttons)


def _page(tenant_name: str, title: str, body: str) -> str:
    return _PAGE.substitute(
        title=escape(title), tenant=escape(tenant_name), style=_STYLE, body=body
    )
