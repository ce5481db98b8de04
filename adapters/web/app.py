"""The web chat widget channel: mounts the embed script, chat frame, session, socket and demo.

Embedding: a page adds `<script src="{BOT_PUBLIC_URL}/widget.js" async></script>`. The script
draws a launcher button (in a shadow root, so the host's CSS cannot restyle it) and, when
opened, an iframe served from the bot's own origin (`/widget/frame`) that holds the whole
chat: sign-in form, transcript, message box. Why an iframe: the host page's scripts cannot
read the chat, the sign-in form or the session cookie across the origin boundary, and host
CSS cannot break the panel. `frame-ancestors` limits which sites may embed the frame to the
bot's own origin and `WIDGET_ALLOWED_ORIGINS`. Inside the helpdesk portal the host calls
`HelpdeskWidget.init({accessToken})`; the token goes to the frame by `postMessage` (to the
bot's origin only) and is exchanged for a session at once.

Routes
  GET  /                     demo page: embeds the widget with the script tag a customer uses
  GET  /widget.js            the embed script        GET /widget/launcher.css
  GET  /widget/frame         the chat frame (+ frame.js, frame_render.js, markdown.js, frame.css)
  GET  /widget/config        tenant name and colours from the helpdesk `/init` (CORS for
                             allowed origins; 403 elsewhere, so the launcher can say so)
  GET|POST|DELETE /widget/session   status, sign in, sign out (`adapters.web.session`)
  GET  /widget/ws            the chat WebSocket (protocol: `adapters.web.socket`)

Hosts with a Content-Security-Policy must allow the bot's origin in `script-src`,
`style-src` and `frame-src`. `WebDelivery.deliver` is registered with the handoff relay
(as the channel's `deliver`; also the app key `WEB_DELIVERY`): it pushes agent messages into
the widget.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.channel import ChannelServices
from adapters.tasks import TaskGroup
from adapters.web.delivery import WebDelivery
from adapters.web.follower import WidgetFollower
from adapters.web.protocol import OriginPolicy, normalize_origin
from adapters.web.session import CHANNEL, WidgetSessions, request_origin
from adapters.web.socket import CLOSE_SIGNED_OUT, WebChat
from bot import prompts
from bot.helpdesk.errors import HelpdeskError
from bot.linking import Linked
from bot.messages import Inbound, Reply

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
CONFIG_TTL_S = 300.0
CONFIG_TIMEOUT_S = 5.0
DEFAULT_PRIMARY = "#1f5fbf"
WIDGET_SIGN_IN_PATH = "/widget/frame#signin"  # the widget signs in where it is, no link page

WEB_DELIVERY = web.AppKey("web_delivery", WebDelivery)
WEB_FOLLOWER = web.AppKey("web_follower", WidgetFollower)
WEB_SESSIONS = web.AppKey("web_sessions", WidgetSessions)

_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_STATIC = {  # route → (file, content type)
    "/widget.js": ("widget.js", "text/javascript"),
    "/widget/launcher.css": ("launcher.css", "text/css"),
    "/widget/frame.js": ("frame.js", "text/javascript"),
    "/widget/frame_render.js": ("frame_render.js", "text/javascript"),
    "/widget/frame.css": ("frame.css", "text/css"),
    "/widget/markdown.js": ("markdown.js", "text/javascript"),
    "/widget/demo.css": ("demo.css", "text/css"),
}
_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


class WebChannel:
    """The widget as a `Channel` (`adapters.channel`): pages, session, socket, delivery."""

    name = CHANNEL

    def __init__(self, services: ChannelServices, tasks: TaskGroup) -> None:
        settings = services.settings
        self._services = services
        self._tasks = tasks
        self._origins = OriginPolicy.from_settings(
            settings.bot_public_url, settings.widget_allowed_origins
        )
        self.delivery = WebDelivery(services.desk)
        self.follower = WidgetFollower(desk=services.desk, delivery=self.delivery)
        self.sessions = WidgetSessions(
            desk=services.desk,
            identities=services.identities,
            origins=self._origins,
            secure=settings.bot_public_url.lower().startswith("https://"),
        )
        self.sessions.on_signed_out = self._signed_out
        self._stopping = asyncio.Event()
        self._follower: list[asyncio.Task[None]] = []

    async def _signed_out(self, user_key: str) -> None:
        await self.delivery.close_conversation(
            user_key, frame={"type": "signed_out"}, code=CLOSE_SIGNED_OUT
        )

    def mount(self, app: web.Application) -> None:
        services = self._services
        chat = WebChat(
            engine=services.engine,
            desk=services.desk,
            sessions=self.sessions,
            delivery=self.delivery,
            tasks=self._tasks,
        )
        pages = WidgetPages(services, self._origins)

        async def relinked(user_key: str) -> None:
            self._tasks.spawn(chat.resume_after_sign_in(user_key), name="web-resume")

        self.sessions.on_relinked = relinked
        app[WEB_DELIVERY] = self.delivery
        app[WEB_FOLLOWER] = self.follower
        app[WEB_SESSIONS] = self.sessions
        app.router.add_get("/", pages.demo)
        for path in _STATIC:
            app.router.add_get(path, pages.static)
        app.router.add_get("/widget/frame", pages.frame)
        app.router.add_get("/widget/config", pages.config)
        app.router.add_get("/widget/session", self.sessions.status)
        app.router.add_post("/widget/session", self.sessions.sign_in)
        app.router.add_delete("/widget/session", self.sessions.sign_out)
        app.router.add_get("/widget/ws", chat.websocket)
        app.on_startup.append(self._follow)
        app.on_shutdown.append(self._close_sockets)

    async def deliver(self, conversation_key: str, reply: Reply) -> bool:
        return await self.delivery.deliver(conversation_key, reply)

    async def on_linked(self, linked: Linked) -> None:
        """Widget users sign in inside the panel, never through a link page."""

    async def sign_in_url(self, inbound: Inbound, message_id: int) -> str | None:
        """The widget shows its own sign-in form for this URL (no link page)."""
        return self._services.settings.bot_public_url + WIDGET_SIGN_IN_PATH

    async def _follow(self, _: web.Application) -> None:
        self._follower.append(
            asyncio.create_task(self.follower.run(self._stopping), name="widget-follow")
        )

    async def _close_sockets(self, _: web.Application) -> None:
        self._stopping.set()  # the follower ends at its next pause, never mid-query
        await asyncio.gather(*self._follower, return_exceptions=True)
        await self.delivery.close_all()


class WidgetPages:
    """The static files, the chat frame, the branding config and the demo page."""

    def __init__(self, services: ChannelServices, origins: OriginPolicy) -> None:
        self._services = services
        self._origins = origins
        self._files = {
            path: (STATIC_DIR / name).read_bytes() for path, (name, _) in _STATIC.items()
        }
        self._frame = (STATIC_DIR / "frame.html").read_bytes()
        self._config: tuple[float, dict[str, Any]] | None = None
        self._config_lock = asyncio.Lock()

    async def static(self, request: web.Request) -> web.Response:
        _, content_type = _STATIC[request.path]
        return web.Response(
            body=self._files[request.path],
            content_type=content_type,
            charset="utf-8",
            headers={**_SECURITY_HEADERS, "Cache-Control": "no-cache"},
        )

    async def frame(self, request: web.Request) -> web.Response:
        host = re.sub(r"[^A-Za-z0-9.:\[\]-]", "", request.host)
        policy = "; ".join(
            [
                "default-src 'none'",
                "script-src 'self'",
                "style-src 'self'",
                "img-src 'self' data:",
                f"connect-src 'self' ws://{host} wss://{host}",
                f"frame-ancestors {self._origins.frame_ancestors()}",
                "base-uri 'none'",
                "form-action 'none'",
            ]
        )
        return web.Response(
            body=self._frame,
            content_type="text/html",
            charset="utf-8",
            headers={
                **_SECURITY_HEADERS,
                "Content-Security-Policy": policy,
                "Cache-Control": "no-cache",
            },
        )

    async def config(self, request: web.Request) -> web.Response:
        """Branding for the launcher and the frame; readable cross-origin by allowed sites."""
        origin = request.headers.get("Origin")
        headers = {**_SECURITY_HEADERS, "Vary": "Origin", "Cache-Control": "no-cache"}
        if origin is not None and normalize_origin(origin):
            headers["Access-Control-Allow-Origin"] = origin
        if not self._origins.allows(origin, request_origin=request_origin(request)):
            body = {
                "error": "origin_not_allowed",
                "message": prompts.reply("web_site_not_allowed"),
            }
            return web.json_response(body, status=403, headers=headers)
        return web.json_response(await self._branding(), headers=headers)

    async def _branding(self) -> dict[str, Any]:
        async with self._config_lock:
            cached = self._config
            if cached is not None and time.monotonic() - cached[0] < CONFIG_TTL_S:
                return cached[1]
            config = await self._load_branding()
            self._config = (time.monotonic(), config)
            return config

    async def _load_branding(self) -> dict[str, Any]:
        name = self._services.tenant_name
        colors: dict[str, str] = {"primary": DEFAULT_PRIMARY}
        try:
            async with asyncio.timeout(CONFIG_TIMEOUT_S):
                init = await self._services.desk.branding()
        except (HelpdeskError, TimeoutError) as exc:
            log.info("Widget branding falls back to defaults (%s)", type(exc).__name__)
        else:
            name = init.tenant.name
            branding = init.branding.model_dump()
            for key in ("primary", "secondary", "accent", "text"):
                value = branding.get(f"{key}_color")
                if isinstance(value, str) and _COLOR.match(value):
                    colors[key] = value
        return {"name": name, "colors": colors}

    async def demo(self, request: web.Request) -> web.Response:
        public = self._services.settings.bot_public_url
        base = demo_widget_base(public, request_origin(request))
        console = self._services.sandbox_console_url
        page = render_demo_page(
            tenant=self._services.tenant_name,
            public_url=public,
            script_base=base,
            console_url=console,
            accounts=_demo_accounts() if console else [],
        )
        return web.Response(
            text=page,
            content_type="text/html",
            headers={**_SECURITY_HEADERS, "Cache-Control": "no-cache"},
        )


def demo_widget_base(public_url: str, request_origin: str) -> str:
    """Where the demo page loads the widget from: `BOT_PUBLIC_URL`, except when the page was
    opened on another loopback name or port (localhost vs 127.0.0.1, a test server), where
    the bot's public URL would be another site, or not this server at all."""
    public = normalize_origin(public_url) or public_url
    here = normalize_origin(request_origin)
    if here is None or here == public:
        return public
    loopback = ("localhost", "127.0.0.1", "[::1]")
    if here.split("://", 1)[1].rsplit(":", 1)[0] in loopback:
        return here
    return public


def render_demo_page(
    *,
    tenant: str,
    public_url: str,
    script_base: str,
    console_url: str | None,
    accounts: list[tuple[str, str, str]],
) -> str:
    e = html.escape
    snippet = f'<script src="{public_url}/widget.js" async></script>'
    rows = "".join(
        f"<tr><td><code>{e(email)}</code></td><td><code>{e(password)}</code></td>"
        f"<td>{e(role)}</td></tr>"
        for email, password, role in accounts
    )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(tenant)} — chat widget demo</title>",
        '<link rel="icon" href="data:,">',
        '<link rel="stylesheet" href="/widget/demo.css"></head><body><main>',
        f"<h1>{e(tenant)} assistant</h1>",
        "<p>This page embeds the chat widget exactly as your intranet or helpdesk portal "
        "would. Open it with the chat button in the bottom corner.</p>",
        "<h2>Embed it on your site</h2>",
        f"<pre><code>{e(snippet)}</code></pre>",
        "<p>Inside the helpdesk portal, sign the user in silently with "
        "<code>HelpdeskWidget.init({accessToken})</code>.</p>",
    ]
    if accounts:
        parts += [
            "<h2>Demo accounts</h2>",
            '<table><thead><tr><th scope="col">Email</th><th scope="col">Password</th>'
            f'<th scope="col">Who</th></tr></thead><tbody>{rows}</tbody></table>',
        ]
    if console_url:
        parts.append(
            f'<p>Answer as a human agent from the <a href="{e(console_url)}">sandbox agent '
            "console</a> after asking the assistant for a person.</p>"
        )
    parts += [
        "</main>",
        f'<script src="{e(script_base)}/widget.js" async></script>',
        "</body></html>",
    ]
    return "\n".join(parts)


def _demo_accounts() -> list[tuple[str, str, str]]:
    from sandbox.seed import DEMO_ACCOUNTS

    return list(DEMO_ACCOUNTS)
