"""The `helpdesk-bot` command line: parses arguments and starts the right process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from bot.settings import Settings

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="helpdesk-bot", description="A chat-first AI assistant for the Valethon Helpdesk."
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="run the bot (widget, link pages, Slack, Teams) on one server"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--sandbox-port",
        type=int,
        default=8090,
        help="port of the embedded sandbox helpdesk when HELPDESK_BASE_URL is unset",
    )

    chat = commands.add_parser(
        "chat", help="chat in the terminal (reads one message per line when piped)"
    )
    chat.add_argument("--user", required=True, help="helpdesk email, e.g. jane@acme.example")
    chat.add_argument("--password", required=True, help="helpdesk password")
    chat.add_argument("--conversation", default=None, help="resume this conversation key")

    sandbox = commands.add_parser("sandbox", help="run the sandbox Valethon Helpdesk alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8090)
    sandbox.add_argument("--db", default=None, help="SQLite file (default: in memory)")
    sandbox.add_argument(
        "--access-ttl", type=int, default=3600, help="access token lifetime in seconds"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx (and the openai SDK's httpx2) log every request URL at INFO; ours log what matters.
    for noisy in ("httpx", "httpx2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if args.command == "sandbox":
            asyncio.run(_until_stopped(_run_sandbox(args)))
        elif args.command == "serve":
            asyncio.run(_until_stopped(_run_server(args, Settings())))
        elif args.command == "chat":
            asyncio.run(_until_stopped(_run_chat(args, Settings())))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # e.g. the port is taken: say so plainly, no traceback
        print(f"helpdesk-bot: {exc}", file=sys.stderr)
        return 1
    return 0


async def _until_stopped(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` until it ends or SIGINT/SIGTERM arrives, then cancel it and let it clean up."""
    task = asyncio.create_task(work)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise


async def _run_sandbox(args: argparse.Namespace) -> None:
    from sandbox.runner import SandboxConfig, serve_sandbox

    config = SandboxConfig(db_path=args.db, access_ttl=args.access_ttl, model_stream_delay_s=0.02)
    await serve_sandbox(host=args.host, port=args.port, config=config)


async def _run_chat(args: argparse.Namespace, settings: Settings) -> None:
    from adapters.compose import build_services
    from adapters.terminal import CHANNEL, run_chat
    from bot.helpdesk.errors import AuthError

    async with build_services(settings) as services:
        user_key = f"{CHANNEL}:{args.user.lower()}"
        try:
            await services.identities.link_with_password(
                CHANNEL, user_key, username=args.user, password=args.password
            )
        except AuthError:
            print("helpdesk-bot: the helpdesk refused that email or password", file=sys.stderr)
            raise SystemExit(1) from None
        await run_chat(services.engine, user_key=user_key, conversation_key=args.conversation)


async def _run_server(args: argparse.Namespace, settings: Settings) -> None:
    from adapters.server import run_server

    await run_server(settings, host=args.host, port=args.port, sandbox_port=args.sandbox_port)


if __name__ == "__main__":
    raise SystemExit(main())
