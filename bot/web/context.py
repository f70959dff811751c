"""What every web route needs, built once by the composition root (`bot.web.server`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from core.clock import Clock
from core.commands import ChatConfig
from core.conversation import Limits
from storage.web.tokens import SessionPolicy

WEBHOOK_BODY_CAP = 1024 * 1024  # Telegram updates are a few KB; nothing legitimate is larger


@dataclass(frozen=True)
class OpsPolicy:
    """Who may read /healthz and /metrics (bot/web/ops.py), and when the outbox is too late.

    `token`: PARBOT_OPS_TOKEN, for a scraper elsewhere (`Authorization: Bearer …`); without it
    only this machine may ask. `behind_proxy`: PARBOT_WEB_TRUSTED_PROXIES is set, so uvicorn
    has already replaced a trusted proxy's address by the real client's.
    """

    token: str | None = None
    behind_proxy: bool = False
    max_lag_seconds: float = 600.0


@dataclass
class WebContext:
    """The web companion's services; `dispatcher` continues chat flows after a web upload."""

    engine: Engine
    clock: Clock
    public_url: str
    config: ChatConfig = field(default_factory=ChatConfig)
    limits: Limits = field(default_factory=Limits)
    link_ttl: timedelta = timedelta(hours=24)
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    dispatcher: Any = None  # bot.chat.dispatcher.Dispatcher; None: uploads cannot continue
    webhook_cap: int = WEBHOOK_BODY_CAP
    ops: OpsPolicy = field(default_factory=OpsPolicy)

    @property
    def tz(self) -> ZoneInfo:
        return self.config.timezone

    @property
    def https(self) -> bool:
        return self.public_url.startswith("https://")

    def url(self, path: str) -> str:
        return f"{self.public_url.rstrip('/')}{path}"
