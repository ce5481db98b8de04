"""No test sees the developer's environment or `.env` (the autouse fixture in conftest)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.conftest import SETTINGS_VARIABLES


def test_no_variable_the_product_reads_is_set() -> None:
    leaked = sorted(name for name in os.environ if name.upper() in SETTINGS_VARIABLES)
    assert leaked == []
    assert {"SLACK_BOT_TOKEN", "MICROSOFTAPPID", "OPENAI_API_KEY"} <= SETTINGS_VARIABLES


def test_a_dotenv_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path.joinpath(".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\nLLM_MODEL=leaked\n")
    monkeypatch.chdir(tmp_path)

    settings = Settings()

    assert settings.slack_bot_token is None
    assert settings.llm_model == "gpt-4.1-mini"
