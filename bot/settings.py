"""Process settings, read once from the environment (and `.env`) by the composition root.

Names follow each ecosystem's own conventions where one exists (Bolt's `SLACK_*`, Bot
Framework's `MicrosoftApp*`, the OpenAI SDK's `OPENAI_*`), so a deployer's existing
environment works unchanged. Nothing else in the code base reads the environment.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a deployment configures; defaults give the embedded demo."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    helpdesk_base_url: str | None = Field(
        default=None, description="Helpdesk API v1 base URL; unset starts the embedded sandbox"
    )
    helpdesk_connect_timeout: float = Field(default=5.0, gt=0)
    helpdesk_read_timeout: float = Field(default=15.0, gt=0)
    helpdesk_retry_budget: float = Field(default=10.0, ge=0)

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    llm_model: str = "gpt-4.1-mini"
    llm_provider: Literal["openai", "langchain"] = "openai"
    llm_input_token_budget: int = Field(default=8000, ge=1000)

    database_url: str = "sqlite+aiosqlite:///./helpdesk-bot.db"
    bot_secret_key: SecretStr | None = None
    bot_public_url: str = "http://127.0.0.1:8080"
    bot_log_content: bool = False  # BOT_LOG_CONTENT=1: request bodies may appear in logs
    log_format: Literal["text", "json"] = "text"  # LOG_FORMAT=json: one JSON object a line

    metrics_token: SecretStr | None = Field(
        default=None, description="set: /metrics needs `Authorization: Bearer <token>`"
    )
    llm_price_input_per_1k: float = Field(default=0.0, ge=0, description="USD per 1k tokens")
    llm_price_output_per_1k: float = Field(default=0.0, ge=0, description="USD per 1k tokens")
    conversation_settle_after_s: float = Field(
        default=1800.0,
        ge=60,
        le=6 * 3600,
        description="quiet this long: a conversation's outcome is counted (deflection)",
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None

    microsoft_app_id: str | None = Field(
        default=None, validation_alias=AliasChoices("MicrosoftAppId", "MICROSOFT_APP_ID")
    )
    microsoft_app_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("MicrosoftAppPassword", "MICROSOFT_APP_PASSWORD"),
    )
    microsoft_app_tenant_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID"),
    )
    microsoft_app_type: str | None = Field(
        default=None, validation_alias=AliasChoices("MicrosoftAppType", "MICROSOFT_APP_TYPE")
    )
    teams_dev_mode: bool = False

    widget_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    handoff_ticket_offer_after_s: float = Field(
        default=300.0, gt=0, description="queued with no agent this long: offer a ticket"
    )

    @field_validator("widget_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept the comma-separated form a deployer writes in an environment variable."""
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("helpdesk_base_url", "bot_public_url", "openai_base_url", "slack_api_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )

    @property
    def teams_enabled(self) -> bool:
        return self.microsoft_app_id is not None or self.teams_dev_mode
