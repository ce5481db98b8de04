"""The `helpdesk-bot` command line: parses arguments and starts the right process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bot.logcontext import ContextFilter
from bot.logging_setup import install as install_log_hygiene
from bot.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
LOG_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [%(channel)s %(conversation)s %(correlation_id)s]: "
    "%(message)s"
)
SHIPPED_SCENARIOS = Path(__file__).resolve().parent.parent / "tests" / "scenarios"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="helpdesk-bot", description="A chat-first AI assistant for the Valethon Helpdesk."
    )
    parser.add_argument(
        "--log-level",
        default=None,
        help="DEBUG, INFO, WARNING, ERROR (default INFO; WARNING for eval)",
    )
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

    evaluate = commands.add_parser(
        "eval",
        help="run evaluation scenarios against the configured model; exit 0 only if all pass",
    )
    evaluate.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of scenario files (default: the shipped tests/scenarios)",
    )
    evaluate.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="NAME",
        help="run only this scenario (shell-style patterns like 'injection-*'; repeatable)",
    )
    evaluate.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON"
    )
    evaluate.add_argument(
        "--database-url",
        default=None,
        help="the bot's store for the run (default: a temporary SQLite database)",
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
    level = args.log_level or ("WARNING" if args.command == "eval" else "INFO")
    settings = None if args.command == "sandbox" else Settings()
    logging.basicConfig(level=level.upper())
    for handler in logging.getLogger().handlers:
        handler.addFilter(ContextFilter())
        # Bounded lines, no request bodies (BOT_LOG_CONTENT=1 aside), malformed requests as
        # one WARNING line: anyone who can reach the port can make aiohttp and Bolt log.
        install_log_hygiene(
            handler,
            fmt=LOG_FORMAT,
            log_content=bool(settings and settings.bot_log_content),
            output=settings.log_format if settings else "text",
        )
    # httpx, the openai SDK's httpx2 and alembic are chatty at INFO; ours log what matters.
    for noisy in ("httpx", "httpx2", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if args.command == "sandbox":
            asyncio.run(_until_stopped(_run_sandbox(args)))
        elif args.command == "serve":
            assert settings is not None
            asyncio.run(_until_stopped(_run_server(args, settings)))
        elif args.command == "chat":
            assert settings is not None
            asyncio.run(_until_stopped(_run_chat(args, settings)))
        elif args.command == "eval":
            assert settings is not None
            code = asyncio.run(_until_stopped(_run_eval(args, settings)))
            return 130 if code is None else code
    except KeyboardInterrupt:
        return 130 if args.command == "eval" else 0
    except OSError as exc:  # e.g. the port is taken: say so plainly, no traceback
        print(f"helpdesk-bot: {exc}", file=sys.stderr)
        return 1
    return 0


async def _until_stopped(work: Coroutine[Any, Any, T]) -> T | None:
    """Run `work` until it ends or SIGINT/SIGTERM arrives, then cancel it and let it clean up.

    Returns what `work` returned, or None when it was stopped.
    """
    task = asyncio.create_task(work)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    return None


async def _run_sandbox(args: argparse.Namespace) -> None:
    from sandbox.runner import SandboxConfig, serve_sandbox

    config = SandboxConfig(db_path=args.db, access_ttl=args.access_ttl, model_stream_delay_s=0.02)
    await serve_sandbox(host=args.host, port=args.port, config=config)


async def _run_chat(args: argparse.Namespace, settings: Settings) -> None:
    from adapters.compose import build_services
    from adapters.terminal.channel import CHANNEL, run_chat
    from bot import prompts
    from bot.helpdesk.errors import AuthError

    async with build_services(settings) as services:
        user_key = f"{CHANNEL}:{args.user.lower()}"
        try:
            await services.identities.link_with_password(
                CHANNEL, user_key, username=args.user, password=args.password
            )
        except AuthError:
            print(prompts.reply("terminal_sign_in_refused"), file=sys.stderr)
            raise SystemExit(1) from None
        await run_chat(services.engine, user_key=user_key, conversation_key=args.conversation)


async def _run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Exit code 0 when every scenario passed, 1 when one failed, 2 when none could run."""
    import fnmatch
    import json

    from adapters.compose import eval_services
    from adapters.eval.report import exit_code, format_report, report_json
    from adapters.eval.runner import ScenarioResult, run_scenarios
    from adapters.eval.scenarios import ScenarioError, load_scenarios

    directory: Path = args.directory or SHIPPED_SCENARIOS
    try:
        scenarios = load_scenarios(directory)
    except ScenarioError as exc:
        print("helpdesk-bot eval: bad scenario files:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    if args.only:
        scenarios = [
            s for s in scenarios if any(fnmatch.fnmatchcase(s.scenario.name, p) for p in args.only)
        ]
        if not scenarios:
            print(f"helpdesk-bot eval: no scenario matches {args.only}", file=sys.stderr)
            return 2

    def progress(number: int, total: int, result: ScenarioResult) -> None:
        if sys.stderr.isatty():
            print(f"[{number}/{total}] {result.name}: {result.status}", file=sys.stderr)

    async with eval_services(settings, database_url=args.database_url) as services:
        report = await run_scenarios(services, scenarios, progress=progress)
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report_json(report), indent=2) + "\n", encoding="utf-8")
    return exit_code(report)


async def _run_server(args: argparse.Namespace, settings: Settings) -> None:
    from adapters.server import run_server

    if "bot_public_url" not in settings.model_fields_set:  # default: where we listen
        host = "127.0.0.1" if args.host in ("", "0.0.0.0", "::") else args.host
        settings = settings.model_copy(update={"bot_public_url": f"http://{host}:{args.port}"})

    await run_server(settings, host=args.host, port=args.port, sandbox_port=args.sandbox_port)


if __name__ == "__main__":
    raise SystemExit(main())
