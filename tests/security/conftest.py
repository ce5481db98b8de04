"""The security suite's session: every log record is captured, grepped for secrets at the
end (each kind of secret found counts as an attack let through), and one counts line is
printed.

The capture handler is set up as `helpdesk-bot serve` sets up its own (`adapters.cli`:
context stamp, `bot.logging_setup.install`), at DEBUG, so what is grepped is what the
process would write with the most verbose logging an operator can turn on."""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.cli import LOG_FORMAT
from tests.conftest import DEMO_PASSWORDS
from tests.contract.test_slack_http import SIGNING_SECRET
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN
from tests.log_capture import root_logs_to
from tests.security.ledger import LEDGER

_LOG = io.StringIO()
# Kinds of secret -> the values of that kind the suite used or saw.
SECRETS: defaultdict[str, set[str]] = defaultdict(set)
for _name, _value in {
    "Slack signing secret": SIGNING_SECRET,
    "Slack bot token": BOT_TOKEN,
    "Slack app token": APP_TOKEN,
    **{f"password of {email}": password for email, password in DEMO_PASSWORDS.items()},
    "a bearer token": "Bearer ey",
    "a session cookie": "Set-Cookie:",
    "a bot secret key": "web-test-secret",
    "a bot secret key ": "link-test-secret",
    "a bot secret key  ": "test-secret-key",
    "the Teams app password": "app-secret",
}.items():
    SECRETS[_name.strip()].add(_value)


def remember_secret(kind: str, value: str) -> None:
    """A secret a test saw (a cookie, a token): the captured logs must not hold it."""
    if len(value) >= 8:
        SECRETS[kind].add(value)


@pytest.fixture(autouse=True)
def ledger_per_test() -> None:
    LEDGER.start_test()


@pytest.fixture(scope="session", autouse=True)
def captured_logs() -> Iterator[io.StringIO]:
    with root_logs_to(_LOG, fmt=LOG_FORMAT, level=logging.DEBUG) as stream:
        yield stream


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Grep the captured logs once the suite is done; a secret found fails the run."""
    if not LEDGER.tried:
        return
    log = _LOG.getvalue()
    for kind, values in sorted(SECRETS.items()):
        leaked = any(value in log for value in values)
        LEDGER.outcome(f"{kind} in the logs", refused=not leaked)
    if LEDGER.let_through and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not LEDGER.tried:
        return
    for name in LEDGER.let_through:
        terminalreporter.write_line(f"security: let through: {name}")
    terminalreporter.write_line(LEDGER.line())


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_records() -> Iterator[list[logging.LogRecord]]:
    """ERROR records logged during the test (an unhandled request is logged at ERROR)."""
    handler = _ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
