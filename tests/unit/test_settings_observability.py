"""The operations settings as a deployer writes them in the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_operations_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_FORMAT", " JSON ")
    monkeypatch.setenv("METRICS_TOKEN", "s3cret-scrape")
    monkeypatch.setenv("LLM_PRICE_INPUT_PER_1K", "0.4")
    monkeypatch.setenv("LLM_PRICE_OUTPUT_PER_1K", "1.6")
    monkeypatch.setenv("CONVERSATION_SETTLE_AFTER_S", "900")

    settings = Settings()

    assert settings.log_format == "json"
    assert settings.metrics_token is not None
    assert settings.metrics_token.get_secret_value() == "s3cret-scrape"
    assert "s3cret" not in repr(settings)
    assert (settings.llm_price_input_per_1k, settings.llm_price_output_per_1k) == (0.4, 1.6)
    assert settings.conversation_settle_after_s == 900


def test_defaults_keep_metrics_local_and_logs_as_text() -> None:
    settings = Settings()

    assert settings.log_format == "text" and settings.metrics_token is None
    assert settings.conversation_settle_after_s == 1800


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_FORMAT", "yaml"),
        ("CONVERSATION_SETTLE_AFTER_S", "10"),
        ("LLM_PRICE_INPUT_PER_1K", "-1"),
    ],
)
def test_nonsense_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
