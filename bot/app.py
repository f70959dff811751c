"""Composition root: everything `parbot run` needs is built here, once, from the settings.

Settings are read once (by the caller); the engine, the template environment, the chat
registry (features are imported modules, listed in FEATURES), the dispatcher, the channels
(one registration each in CHANNELS: a platform that has its settings is started), the
`FileLinks` port, the scheduler and the delivery worker are built here and nowhere else.
No import-time singletons: a test builds as many apps as it likes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from types import ModuleType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy.engine import Engine

from bot.chat.dispatcher import Dispatcher
from bot.chat.inbox import Inbox
from bot.features import chat as chat_feature
from bot.features import extensions as extensions_feature
from bot.features import reports as reports_feature
from bot.features import review as review_feature
from bot.features import round_documents as round_documents_feature
from bot.features import scheduling as scheduling_feature
from bot.features import web as web_feature
from bot.settings import Settings
from bot.web.hooks import Webhooks
from core.calendar import SendWindow
from core.channel import Channel
from core.clock import Clock, SystemClock
from core.commands import ChatConfig, Registry
from core.conversation import Limits
from core.files import FileLinks, NoFileLinks
from messages.render import environment
from scheduler.delivery import DeliveryConfig
from scheduler.service import LEADER_RETRY, SHARED_LEADER_RETRY, SchedulingService
from storage.db import make_engine

log = logging.getLogger("parbot.app")


class Feature(Protocol):
    """A chat feature: plugs its commands, buttons and flows into the registry."""

    def register(self, registry: Registry) -> None: ...


#: Every chat feature, in registration order (adding one is one line here).
FEATURES: tuple[Feature | ModuleType, ...] = (
    chat_feature,  # /start /help /nhiemvu /baocao /huy /moi /dongvai, onboarding
    scheduling_feature,  # /kybaocao /nhacnho /caidat, reminder buttons
    reports_feature,  # /tonghop
    web_feature,  # /web: sign-in and upload links to the web companion
    review_feature,  # /duyet: accept or return reports, answer difficulties; «Báo cáo lại»
    extensions_feature,  # /giahan, «Xin gia hạn», deputies and absences (after chat_feature)
    round_documents_feature,  # «Gửi văn bản» for rounds that ask for a document
)


def engine_from_settings(settings: Settings) -> Engine:
    return make_engine(settings.database_url)


def build_registry(features: Sequence[Feature | ModuleType] = FEATURES) -> Registry:
    """A fresh registry with every feature registered, in order."""
    registry = Registry()
    for feature in features:
        feature.register(registry)
    return registry


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_text_chars=settings.max_text_chars,
        max_file_bytes=int(settings.max_file_mb * 1024 * 1024),
        idle_hours=settings.flow_idle_hours,
    )


def chat_config(settings: Settings) -> ChatConfig:
    """The part of the settings chat handlers read (`ctx.config`)."""
    return ChatConfig(
        timezone=ZoneInfo(settings.timezone),
        data_dir=settings.data_dir,
        report_issuer=settings.report_issuer,
        report_place=settings.report_place,
        report_signer=settings.report_signer,
        report_signer_title=settings.report_signer_title,
        web_url=settings.web_public_url(),
        send_window=SendWindow(
            settings.send_window_start, settings.send_window_end, settings.timezone
        ),
        digest_time=settings.digest_time,
    )


@dataclass
class Running:
    """A started channel: the `Channel` replies go through and the one the worker sends
    through (Telegram gives the worker a bot of its own)."""

    chat: Channel
    delivery: Channel


class StartRefused(Exception):
    """A channel's settings do not allow a start (the message says which is missing)."""


@dataclass(frozen=True)
class ChannelPlugin:
    """A platform's registration: started by `parbot run` when `configured(settings)`;
    `run(app)` runs it (polling, a webhook) for the duration of an `async with` block."""

    name: str
    configured: Callable[[Settings], bool]
    run: Callable[[App], AbstractAsyncContextManager[Running]]


def _run_telegram(app: App) -> AbstractAsyncContextManager[Running]:
    from bot.channels.telegram.service import run_telegram

    return run_telegram(app)


#: A flow step whose question is still not recorded as sent this long after it was taken was
#: left by a worker that died (a live one sends within its read timeout, 15 s): asked again.
PROMPT_GRACE = timedelta(minutes=2)

TELEGRAM = ChannelPlugin(
    "telegram", lambda settings: settings.telegram_bot_token is not None, _run_telegram
)


def _run_zalo_bot(app: App) -> AbstractAsyncContextManager[Running]:
    from bot.channels.zalo_bot.running import run_zalo_bot

    return run_zalo_bot(app)


def _run_zalo_oa(app: App) -> AbstractAsyncContextManager[Running]:
    from bot.channels.zalo_oa.running import run_zalo_oa

    return run_zalo_oa(app)


ZALO_BOT = ChannelPlugin(
    "zalo", lambda settings: settings.zalo_bot_token is not None, _run_zalo_bot
)
ZALO_OA = ChannelPlugin("zalo_oa", lambda settings: bool(settings.zalo_oa_app_id), _run_zalo_oa)

#: Every channel platform `parbot run` may start; each starts when its settings are present.
CHANNELS: tuple[ChannelPlugin, ...] = (TELEGRAM, ZALO_BOT, ZALO_OA)


@dataclass
class App:
    settings: Settings
    engine: Engine
    clock: Clock
    templates: Environment
    registry: Registry
    dispatcher: Dispatcher
    files: FileLinks
    plugins: tuple[ChannelPlugin, ...] = CHANNELS
    channels: dict[str, Channel] = field(default_factory=dict)  # delivery side, by name
    features: Sequence[Feature | ModuleType] = FEATURES
    webhooks: Webhooks = field(default_factory=Webhooks)  # channels' endpoints in the web app
    inbox: Inbox | None = None  # webhook updates, durable before the answer (build_app makes it)
    # What must run once however many processes run (setWebhook, command menus): the leader's.
    leader_duties: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    shared: bool = False  # one of `parbot serve --workers N`'s processes

    def configured(self) -> list[ChannelPlugin]:
        """The platforms whose settings are present (none: `parbot run` is the console)."""
        return [p for p in self.plugins if p.configured(self.settings)]

    def scheduling(self) -> SchedulingService:
        """The jobs and the delivery worker over every started channel; on start it also
        re-sends prompts a crash kept from their users."""
        ctx = scheduling_feature.scheduling_from(self.settings, self.engine, self.clock)
        return SchedulingService(
            ctx,
            dict(self.channels),
            DeliveryConfig(per_second=self.settings.send_rate),
            files=self.files,
            on_start=[self.dispatcher.resend_prompts],
            on_lead=self.leader_duties,
            on_watch=[partial(self.dispatcher.resend_prompts, PROMPT_GRACE)],
            shared=self.shared,
            leader_retry=SHARED_LEADER_RETRY if self.shared else LEADER_RETRY,
        )


def build_app(
    settings: Settings,
    engine: Engine | None = None,
    clock: Clock | None = None,
    features: Sequence[Feature | ModuleType] = FEATURES,
    files: FileLinks | None = None,
    plugins: tuple[ChannelPlugin, ...] = CHANNELS,
) -> App:
    """Everything, built once. `files`: the FileLinks port (the web companion's when it is
    configured; without a web server, NoFileLinks: files are had from the operator)."""
    engine = engine or engine_from_settings(settings)
    clock = clock or SystemClock()
    registry = build_registry(features)
    files = files or NoFileLinks()
    dispatcher = Dispatcher(
        engine,
        registry,
        clock,
        limits_from(settings),
        settings.timezone,
        chat_config(settings),
        files,
    )
    app = App(
        settings, engine, clock, environment(), registry, dispatcher, files, plugins,
        features=features, inbox=Inbox(engine, clock),
    )
    if isinstance(files, NoFileLinks) and settings.web_public_url() is not None:
        # the web companion serves the links: files travel as signed links where a channel
        # cannot carry them (its WebContext needs the dispatcher, hence after it)
        from bot.web.server import file_links

        links = file_links(app)
        if links is not None:
            app.files = dispatcher.files = links
    return app


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
    values += [settings.zalo_oa_app_secret, settings.zalo_oa_secret_key]  # OA: headers, MACs
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
