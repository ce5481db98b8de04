"""Browser-test plumbing: Debian's Chromium via Playwright, and the real `helpdesk-bot serve`.

Test modules register this file with `pytest_plugins = ["tests.e2e.browser"]`. It provides:

- `browser`: one headless Chromium per session. Playwright's own browser download is not
  available, so it drives `/usr/bin/chromium` (or `chromium` on PATH). Without one the
  tests skip with the reason, unless `REQUIRE_BROWSER=1` (set by `.ci/run`) makes that a
  failure.
- `bot_server`: the real server in a subprocess per test module — embedded sandbox helpdesk
  and stand-in model, a temporary SQLite database, a known `BOT_SECRET_KEY` — ready when
  `/readyz` says so, stopped with SIGTERM (then SIGKILL) at teardown.
- `page`: a fresh browser context and page per test. A failing test gets its screenshot
  under `test-artifacts/failures/`, and its report shows the server's log and the page's
  console from that test.

And for the tests: `Widget`, the chat widget driven as a user drives it, and `serve_page`,
a page on another origin.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Frame, Locator, Page, async_playwright, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium",)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
READY_DEADLINE_S = 30.0
STOP_GRACE_S = 10.0
# Settings the server would otherwise inherit from the developer's shell.
_INHERITED_SETTINGS = (
    "HELPDESK_",
    "OPENAI_",
    "LLM_",
    "DATABASE_",
    "BOT_",
    "SLACK_",
    "MICROSOFT",
    "TEAMS_",
    "WIDGET_",
)
TEST_SECRET_KEY = "e2e-browser-tests-secret-key-not-for-production-0123456789"

DEMO_EMAIL = "jane@acme.example"
DEMO_PASSWORD = "demo-jane"
DEMO_NAME = "Jane Smith"

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
_SECTIONS = pytest.StashKey[list[Any]]()


# --- Chromium -----------------------------------------------------------------------------


def find_chromium() -> str | None:
    """Debian's Chromium, or one on PATH; None when this machine has none."""
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def no_browser(reason: str) -> None:
    """Skip with the reason, or fail when the run requires the browser tests."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}. Install Debian's chromium (`make browser`).")
    pytest.skip(f"{reason}; set REQUIRE_BROWSER=1 to make this a failure")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    executable = find_chromium()
    if executable is None:
        no_browser("no Chromium found (/usr/bin/chromium or `chromium` on PATH)")
    assert executable is not None
    return executable


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium_executable: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS
        )  # launch() gives every run a fresh temporary profile
        try:
            yield launched
        finally:
            await launched.close()


# --- the server under test ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class BotServer:
    """A running `helpdesk-bot serve` and where to reach it."""

    url: str  # BOT_PUBLIC_URL, no trailing slash
    sandbox_url: str  # the embedded sandbox (back office, agent console)
    database_url: str
    secret_key: str = field(repr=False)
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def console_url(self) -> str:
        return f"{self.sandbox_url}/sandbox/console"

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int = 0, *, limit: int = 20_000) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return text[-limit:]


def _server_env(*, port: int, workdir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(_INHERITED_SETTINGS)
    }
    env |= {
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bot.db'}",
        "BOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BOT_SECRET_KEY": TEST_SECRET_KEY,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


@contextmanager
def run_bot_server(
    workdir: Path, *, extra_env: dict[str, str] | None = None
) -> Iterator[BotServer]:
    """Start `helpdesk-bot serve` on free ports; yield once `/readyz` answers 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    port, sandbox_port = free_port(), free_port()
    env = _server_env(port=port, workdir=workdir, extra=extra_env or {})
    log_path = workdir / "server.log"
    command = [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port)]
    command += ["--sandbox-port", str(sandbox_port)]
    with log_path.open("wb") as log:
        # cwd is the temporary directory so no developer `.env` is read.
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = BotServer(
        url=env["BOT_PUBLIC_URL"],
        sandbox_url=f"http://127.0.0.1:{sandbox_port}",
        database_url=env["DATABASE_URL"],
        secret_key=env["BOT_SECRET_KEY"],
        log_path=log_path,
        process=process,
    )
    try:
        _wait_ready(server)
        yield server
    finally:
        _stop(process)


def _wait_ready(server: BotServer) -> None:
    deadline = time.monotonic() + READY_DEADLINE_S
    last = "no answer"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"helpdesk-bot serve exited with {server.process.returncode} before it "
                    f"was ready:\n{server.log_since()}"
                )
            try:
                response = client.get(f"{server.url}/readyz")
            except httpx.TransportError as exc:
                last = type(exc).__name__
            else:
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:300]}"
            time.sleep(0.05)  # polling interval of a deadline-bounded wait, not a fixed delay
    raise RuntimeError(
        f"helpdesk-bot serve not ready within {READY_DEADLINE_S:.0f}s (last /readyz: {last}):\n"
        f"{server.log_since()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_GRACE_S)


@pytest.fixture(scope="module")
def bot_server_process(
    chromium_executable: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotServer]:
    """One server per test module (it starts in about a second). Needs a browser to be of
    any use, so it is not started when the browser tests skip."""
    with run_bot_server(tmp_path_factory.mktemp("helpdesk-bot-serve")) as server:
        yield server


@pytest.fixture
def bot_server(bot_server_process: BotServer, request: pytest.FixtureRequest) -> BotServer:
    """The module's server; a failing test's report shows what the server logged during it."""
    server, offset = bot_server_process, bot_server_process.log_size()

    def server_log() -> tuple[str, str]:
        alive = server.process.poll() is None
        title = "helpdesk-bot serve log" + ("" if alive else f" (exited {server.process.poll()})")
        return title, server.log_since(offset)

    request.node.stash.setdefault(_SECTIONS, []).append(server_log)
    return server


# --- pages --------------------------------------------------------------------------------


def artifact_path(name: str) -> Path:
    """A file under `test-artifacts/` (gitignored), its directory created."""
    path = ARTIFACTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _slug(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:120]


@pytest_asyncio.fixture(loop_scope="session")
async def page(
    browser: Browser, bot_server: BotServer, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """A page in a fresh context (no cookies or storage from other tests)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    console: list[str] = []
    opened = await context.new_page()
    _watch_console(opened, console)
    context.on("page", lambda other: _watch_console(other, console))
    request.node.stash.setdefault(_SECTIONS, []).append(
        lambda: ("browser console", "\n".join(console[-200:]))
    )
    try:
        yield opened
    finally:
        report = request.node.stash.get(_REPORTS, {}).get("call")
        if report is not None and report.failed:
            for index, each in enumerate(context.pages):
                shot = artifact_path(f"failures/{_slug(request.node.nodeid)}-{index}.png")
                await each.screenshot(path=shot, full_page=True)
        await context.close()


def _watch_console(page: Page, sink: list[str]) -> None:
    page.on("console", lambda message: sink.append(f"[{message.type}] {message.text}"))
    page.on("pageerror", lambda error: sink.append(f"[pageerror] {error}"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember each phase's report (for the page fixture) and attach the logs on failure."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    if report.failed:
        for section in item.stash.get(_SECTIONS, []):
            title, text = section()
            if text:
                report.sections.append((f"{title} ({report.when})", text))
    return report


# --- the widget as a user drives it -------------------------------------------------------

FRAME_NAME = "helpdesk-widget-frame"
LAUNCHER_NAME = re.compile("chat", re.I)  # the contract: its accessible name contains "chat"


class Widget:
    """The embedded chat: the launcher on the host page, the panel in the bot's iframe.

    Locators use what a user (or a screen reader) perceives: roles, labels, button names.
    The message bubbles' classes (`msg-user`, `msg-assistant`, ...) are the one concession
    to the DOM, to tell whose message is whose.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.get_by_role("button", name=LAUNCHER_NAME)
        self.dialog = page.get_by_role("dialog")
        self.panel = page.frame_locator(f"iframe[name={FRAME_NAME}]")
        self.log = self.panel.get_by_role("log")
        self.message_box = self.panel.get_by_label("Message", exact=True)
        self.send_button = self.panel.get_by_role("button", name="Send", exact=True)
        self.user_messages = self.log.locator(".msg-user")
        self.answers = self.log.locator(".msg-assistant:not(.streaming)")
        self.streaming = self.log.locator(".msg-assistant.streaming")

    @property
    def frame(self) -> Frame:
        frame = self.page.frame(name=FRAME_NAME)
        assert frame is not None, "the widget's chat frame is not on the page"
        return frame

    async def open(self) -> None:
        await self.launcher.click()
        await expect(self.dialog).to_be_visible()

    async def sign_in(self, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
        await self.panel.get_by_label("Email", exact=True).fill(email)
        await self.panel.get_by_label("Password", exact=True).fill(password)
        await self.panel.get_by_role("button", name="Sign in", exact=True).click()
        await expect(self.message_box).to_be_editable()

    async def send(self, text: str) -> None:
        """Type and send a message; returns once the panel shows it as the user's."""
        before = await self.user_messages.count()
        await self.message_box.fill(text)
        await self.send_button.click()
        await expect(self.user_messages).to_have_count(before + 1)
        await expect(self.user_messages.last).to_contain_text(text.strip()[:40])

    async def ask(self, text: str, *, timeout_ms: float = 20_000) -> Locator:
        """Send a message and wait for the assistant's complete answer to it."""
        before = await self.answers.count()
        await self.send(text)
        await expect(self.answers).to_have_count(before + 1, timeout=timeout_ms)
        return self.answers.last

    async def screenshot(self, name: str) -> Path:
        path = artifact_path(name)
        await self.page.screenshot(path=path)
        return path


@contextmanager
def serve_page(html: str) -> Iterator[str]:
    """Serve `html` at `/` from another origin (http://localhost:<free port>), in a thread."""
    body = html.encode()

    class OnePage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = 200 if self.path == "/" else 404
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body) if status == 200 else 0))
            self.end_headers()
            if status == 200:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), OnePage)
    thread = threading.Thread(target=server.serve_forever, name="foreign-origin", daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
