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
    # httpx logs every request URL at INFO; our own modules log what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        if args.command == "sandbox":
            asyncio.run(_until_stopped(_run_sandbox(args)))
        elif args.command == "serve":
            asyncio.run(_until_stopped(_run_server(args, Settings())))
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

    config = SandboxConfig(db_path=args.db, access_ttl=args.access_ttl)
    await serve_sandbox(host=args.host, port=args.port, config=config)


async def _run_server(args: argparse.Namespace, settings: Settings) -> None:
    from adapters.server import run_server

    await run_server(settings, host=args.host, port=args.port, sandbox_port=args.sandbox_port)


if __name__ == "__main__":
    raise SystemExit(main())
