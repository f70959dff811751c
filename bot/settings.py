"""Settings from the environment or a `.env` file (names as in README and `.env.example`).

Secrets are `SecretStr` so that printing the settings, or logging them, never shows a token.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # storage
    database_url: str = Field(
        default="sqlite:///data/parbot.db", validation_alias="PARBOT_DATABASE_URL"
    )
    data_dir: Path = Field(default=Path("data"), validation_alias="PARBOT_DATA_DIR")
    seed_dir: Path | None = Field(default=None, validation_alias="PARBOT_SEED_DIR")

    # telegram
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org", validation_alias="TELEGRAM_API_URL"
    )
    telegram_mode: str = Field(default="polling", validation_alias="TELEGRAM_MODE")
    telegram_webhook_url: str | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    # parallel connections Telegram may open to the webhook (see bot/channels/telegram/webhook.py)
    telegram_webhook_max_connections: int = Field(
        default=10, ge=1, le=100, validation_alias="TELEGRAM_WEBHOOK_MAX_CONNECTIONS"
    )
    # for invite links printed by the CLI without asking the Bot API (getMe) first
    telegram_bot_username: str | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_USERNAME"
    )

    # zalo bot platform (channel "zalo") and official account (channel "zalo_oa")
    zalo_bot_token: SecretStr | None = Field(default=None, validation_alias="ZALO_BOT_TOKEN")
    zalo_bot_api_url: str = Field(
        default="https://bot-api.zaloplatforms.com", validation_alias="ZALO_BOT_API_URL"
    )
    zalo_bot_mode: str = Field(default="polling", validation_alias="ZALO_BOT_MODE")
    zalo_bot_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="ZALO_BOT_WEBHOOK_SECRET"
    )
    zalo_bot_quota: int = Field(default=3000, ge=0, validation_alias="ZALO_BOT_MONTHLY_QUOTA")
    zalo_oa_app_id: str | None = Field(default=None, validation_alias="ZALO_OA_APP_ID")
    zalo_oa_app_secret: SecretStr | None = Field(
        default=None, validation_alias="ZALO_OA_APP_SECRET"
    )
    zalo_oa_secret_key: SecretStr | None = Field(
        default=None, validation_alias="ZALO_OA_SECRET_KEY"
    )
    zalo_oa_api_url: str = Field(
        default="https://openapi.zalo.me", validation_alias="ZALO_OA_API_URL"
    )
    zalo_oauth_url: str = Field(
        default="https://oauth.zaloapp.com", validation_alias="ZALO_OAUTH_URL"
    )
    zalo_zns_api_url: str = Field(
        default="https://business.openapi.zalo.me", validation_alias="ZALO_ZNS_API_URL"
    )
    zalo_oa_window_hours: float = Field(default=48, gt=0, validation_alias="ZALO_OA_WINDOW_HOURS")
    zalo_send_rate: float = Field(default=5.0, gt=0, le=100, validation_alias="ZALO_SEND_RATE")
    zalo_zns_template_id: str | None = Field(default=None, validation_alias="ZALO_ZNS_TEMPLATE_ID")

    # behaviour
    timezone: str = Field(default="Asia/Ho_Chi_Minh", validation_alias="PARBOT_TIMEZONE")
    flow_idle_hours: float = Field(default=24, validation_alias="PARBOT_FLOW_IDLE_HOURS")
    max_file_mb: float = Field(default=20, validation_alias="PARBOT_MAX_FILE_MB")
    max_text_chars: int = Field(default=3000, validation_alias="PARBOT_MAX_TEXT_CHARS")
    send_window_start: time = Field(default=time(7, 30), validation_alias="PARBOT_SEND_START")
    send_window_end: time = Field(default=time(17, 0), validation_alias="PARBOT_SEND_END")
    reminder_time: time = Field(default=time(8, 0), validation_alias="PARBOT_REMINDER_TIME")
    digest_time: time = Field(default=time(7, 30), validation_alias="PARBOT_DIGEST_TIME")
    reminder_offsets: str = Field(default="7,3,1,0", validation_alias="PARBOT_REMINDER_DAYS")
    overdue_days_before_escalation: int = Field(
        default=3, validation_alias="PARBOT_ESCALATE_AFTER_DAYS"
    )
    # overall messages per second the delivery worker sends (Telegram: 30; more with paid
    # broadcasts); per-chat and per-group limits stay Telegram's
    send_rate: float = Field(default=30.0, gt=0, le=1000, validation_alias="PARBOT_SEND_RATE")
    log_level: str = Field(default="INFO", validation_alias="PARBOT_LOG_LEVEL")

    # web companion (bot/web/): where it listens, its public base for links, trusted proxies
    web_listen: str | None = Field(default=None, validation_alias="PARBOT_WEB_LISTEN")
    web_url: str | None = Field(default=None, validation_alias="PARBOT_WEB_URL")
    web_trusted_proxies: str = Field(default="", validation_alias="PARBOT_WEB_TRUSTED_PROXIES")
    link_ttl_hours: float = Field(default=24, gt=0, validation_alias="PARBOT_LINK_TTL_HOURS")
    web_session_idle_hours: float = Field(
        default=2, gt=0, validation_alias="PARBOT_WEB_SESSION_IDLE_HOURS"
    )
    web_session_hours: float = Field(default=12, gt=0, validation_alias="PARBOT_WEB_SESSION_HOURS")
    # operations (bot/web/ops.py): /healthz and /metrics answer this machine, or this token
    ops_token: SecretStr | None = Field(default=None, validation_alias="PARBOT_OPS_TOKEN")
    health_max_lag: float = Field(default=600, gt=0, validation_alias="PARBOT_HEALTH_MAX_LAG")
    # the outbound proxy of every platform client (bot/channels/outbound_proxy.py)
    https_proxy: str | None = Field(default=None, validation_alias="HTTPS_PROXY")
    no_proxy: str = Field(default="", validation_alias="NO_PROXY")

    # compiled report (Word letterhead): issuing agency's code, place in the date line, signer
    report_issuer: str = Field(default="SNV", validation_alias="PARBOT_REPORT_ISSUER")
    report_place: str | None = Field(default=None, validation_alias="PARBOT_REPORT_PLACE")
    report_signer: str = Field(default="", validation_alias="PARBOT_REPORT_SIGNER")
    report_signer_title: str = Field(
        default="GIÁM ĐỐC", validation_alias="PARBOT_REPORT_SIGNER_TITLE"
    )

    @field_validator(
        "telegram_bot_token",
        "telegram_webhook_secret",
        "telegram_webhook_url",
        "telegram_bot_username",
        "report_place",
        "zalo_bot_token",
        "zalo_bot_webhook_secret",
        "zalo_oa_app_id",
        "zalo_oa_app_secret",
        "zalo_oa_secret_key",
        "zalo_zns_template_id",
        "web_listen",
        "web_url",
        "ops_token",
        "https_proxy",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`TELEGRAM_BOT_TOKEN=` copied from .env.example means "no token", not an empty one."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def web_address(self) -> tuple[str, int] | None:
        """PARBOT_WEB_LISTEN as (host, port); None when the web companion is off."""
        if not self.web_listen:
            return None
        host, _, port = self.web_listen.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"PARBOT_WEB_LISTEN must be host:port, not {self.web_listen!r}")
        return host.strip("[]"), int(port)

    def web_public_url(self) -> str | None:
        """The base of every link the bot hands out: PARBOT_WEB_URL, else http://<listen>."""
        if self.web_url:
            return self.web_url.rstrip("/")
        if self.web_listen:
            return f"http://{self.web_listen.strip()}"
        return None

    def seed_folder(self) -> Path:
        """The province data shipped with parbot (agencies, plan, rounds)."""
        return self.seed_dir or Path(__file__).resolve().parent.parent / "storage" / "seed" / (
            "quang-nam-2024"
        )
