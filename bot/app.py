"""Composition root: builds every service from settings. No import-time singletons."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from bot.settings import Settings
from storage.db import make_engine


def engine_from_settings(settings: Settings) -> Engine:
    return make_engine(settings.database_url)


class RedactingFilter(logging.Filter):
    """Removes the bot token from every log record: HTTP client loggers print request URLs."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "<redacted>")
            record.msg, record.args = message, None
        return True


def configure_logging(settings: Settings) -> None:
    """Structured (key=value) logs on stderr with the bot token redacted everywhere."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)r")
    )
    handler.addFilter(RedactingFilter([token]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # httpx logs every request URL at INFO, and the URL holds the token: keep them at WARNING.
    # APScheduler logs every five-minute tick at INFO: noise for an operator reading the log.
    for name in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)
