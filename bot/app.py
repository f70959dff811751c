"""Composition root: builds every service from settings. No import-time singletons."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from bot.settings import Settings
from storage.db import make_engine


def engine_from_settings(settings: Settings) -> Engine:
    return make_engine(settings.database_url)


class RedactingFormatter(logging.Formatter):
    """Secrets vanish from the whole formatted record, tracebacks included.

    HTTP client loggers print request URLs, which contain the bot token, and PTB's InvalidToken
    quotes it; cleaning the final text catches every path a secret can take into a log line.
    """

    def __init__(self, inner: logging.Formatter, secrets: list[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text


def secrets_of(settings: Settings) -> list[str]:
    values = [settings.telegram_bot_token, settings.telegram_webhook_secret]
    values += [settings.zalo_bot_token, settings.zalo_bot_webhook_secret]  # zalo: in URL paths
    return [v.get_secret_value() for v in values if v is not None]


def configure_logging(settings: Settings) -> None:
    """Structured (key=value) logs on stderr with the bot token and webhook secret redacted."""
    handler = logging.StreamHandler()
    structured = logging.Formatter(
        "ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)r"
    )
    handler.setFormatter(RedactingFormatter(structured, secrets_of(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # httpx logs every request URL at INFO, and the URL holds the token: keep them at WARNING.
    # APScheduler logs every five-minute tick at INFO: noise for an operator reading the log.
    for name in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)
