"""What `parbot run` starts: the chat features, a channel (Telegram or console), background jobs.

Features are listed by module name; each module exposes `register(registry)` and may expose
`async def run(runtime)` for background work (schedulers, outbox delivery). Adding a feature is
one line in FEATURES.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from types import ModuleType
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.app import configure_logging, engine_from_settings
from bot.chat.dispatcher import Dispatcher
from bot.settings import Settings
from core.channel import Channel
from core.clock import Clock, SystemClock
from core.commands import ChatConfig, Registry
from core.conversation import Limits
from messages.render import render
from storage.migrate import upgrade
from storage.seed import load_seed
from storage.tables.shared import Agency

FEATURES: tuple[str, ...] = (
    "bot.features.chat",  # chat: /start /help /nhiemvu /baocao /huy /moi, report_task, onboarding
    "bot.features.scheduling",  # scheduling: /kybaocao /nhacnho /caidat, snooze; jobs + delivery
    "bot.features.reports",  # reports: /tonghop
)
SWEEP_EVERY = timedelta(minutes=5)

log = logging.getLogger("parbot.runtime")


def feature_modules(features: tuple[str, ...] = FEATURES) -> list[ModuleType]:
    return [importlib.import_module(name) for name in features]


def build_registry(features: tuple[str, ...] = FEATURES) -> Registry:
    """A fresh registry with every feature registered, in FEATURES order."""
    registry = Registry()
    for module in feature_modules(features):
        module.register(registry)
    return registry


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_text_chars=settings.max_text_chars,
        max_file_bytes=int(settings.max_file_mb * 1024 * 1024),
        idle_hours=settings.flow_idle_hours,
    )


@dataclass
class Runtime:
    """Everything a feature's background `run(runtime)` may need."""

    settings: Settings
    engine: Engine
    clock: Clock
    registry: Registry
    dispatcher: Dispatcher
    channels: dict[str, Channel] = field(default_factory=dict)
    features: tuple[str, ...] = FEATURES


def chat_config(settings: Settings) -> ChatConfig:
    """The part of the settings chat handlers read (`ctx.config`)."""
    return ChatConfig(
        timezone=ZoneInfo(settings.timezone),
        data_dir=settings.data_dir,
        report_issuer=settings.report_issuer,
        report_place=settings.report_place,
        report_signer=settings.report_signer,
    )


def build_runtime(
    settings: Settings,
    engine: Engine | None = None,
    clock: Clock | None = None,
    features: tuple[str, ...] = FEATURES,
) -> Runtime:
    engine = engine or engine_from_settings(settings)
    clock = clock or SystemClock()
    registry = build_registry(features)
    dispatcher = Dispatcher(
        engine,
        registry,
        clock,
        limits_from(settings),
        settings.timezone,
        settings.telegram_bot_username,
        chat_config(settings),
    )
    return Runtime(settings, engine, clock, registry, dispatcher, features=features)


def start_background(runtime: Runtime) -> list[asyncio.Task[Any]]:
    """Each feature's `run(runtime)`, plus the sweep that expires idle flows."""
    jobs: list[Callable[[], Coroutine[Any, Any, Any]]] = [lambda: _sweep_idle(runtime)]
    for module in feature_modules(runtime.features):
        runner = getattr(module, "run", None)
        if runner is not None:
            jobs.append(lambda runner=runner: runner(runtime))  # type: ignore[misc]
    return [asyncio.create_task(job()) for job in jobs]


async def stop_background(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _sweep_idle(runtime: Runtime) -> None:
    while True:
        try:
            expired = await asyncio.to_thread(runtime.dispatcher.expire_idle)
            pruned = await asyncio.to_thread(runtime.dispatcher.prune_updates)
            if expired or pruned:
                log.info("chat sweep expired_flows=%s pruned_updates=%s", expired, pruned)
        except Exception:
            log.exception("idle flow sweep failed")
        await asyncio.sleep(SWEEP_EVERY.total_seconds())


def prepare_database(settings: Settings, engine: Engine, seed_if_empty: bool) -> None:
    """Schema up to date; on the console, an empty database gets the shipped plan."""
    upgrade(engine)
    if not seed_if_empty:
        return
    with Session(engine) as session:
        agencies = session.execute(select(func.count()).select_from(Agency)).scalar_one()
    if agencies == 0:
        load_seed(engine, settings.seed_folder())


async def run_console(runtime: Runtime, stdin: TextIO, stdout: TextIO) -> int:
    from bot.channels.console.app import ConsoleChat
    from bot.channels.console.channel import ConsoleChannel

    runtime.channels["console"] = ConsoleChannel(stdout)
    chat = ConsoleChat(runtime.dispatcher, stdout, echo=not stdin.isatty())
    tasks = start_background(runtime)
    try:
        return await chat.arun(stdin)
    finally:
        await stop_background(tasks)


async def run_telegram(runtime: Runtime, stop: asyncio.Event) -> int:
    from bot.channels.telegram.adapter import build_application, polling, webhook

    settings = runtime.settings
    assert settings.telegram_bot_token is not None
    app, adapter = build_application(
        settings.telegram_bot_token.get_secret_value(),
        settings.telegram_api_url,
        runtime.dispatcher,
        runtime.registry,
        runtime.engine,
    )
    if settings.telegram_mode == "webhook":
        if not settings.telegram_webhook_url or not settings.telegram_webhook_secret:
            log.error("webhook mode needs TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET")
            return 2
        serving = webhook(
            app,
            adapter,
            listen=settings.telegram_webhook_listen,
            port=settings.telegram_webhook_port,
            url=settings.telegram_webhook_url,
            secret=settings.telegram_webhook_secret.get_secret_value(),
        )
    else:
        serving = polling(app, adapter)
    async with serving:
        runtime.channels["telegram"] = adapter.channel(app)
        mode, username = settings.telegram_mode, app.bot.username
        log.info("telegram bot running mode=%s username=%s", mode, username)
        tasks = start_background(runtime)
        try:
            await stop.wait()
        finally:
            await stop_background(tasks)
    log.info("telegram bot stopped")
    return 0


def main(settings: Settings, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """`parbot run`: Telegram when TELEGRAM_BOT_TOKEN is set, otherwise the console."""
    engine = engine_from_settings(settings)
    telegram = settings.telegram_bot_token is not None
    prepare_database(settings, engine, seed_if_empty=not telegram)
    configure_logging(settings)
    runtime = build_runtime(settings, engine)
    if not telegram:
        return asyncio.run(run_console(runtime, stdin or sys.stdin, stdout or sys.stdout))

    async def serve() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        return await run_telegram(runtime, stop)

    from telegram.error import InvalidToken, TelegramError

    try:
        return asyncio.run(serve())
    except TelegramError as exc:  # never print the exception: InvalidToken quotes the token
        kind = "token" if isinstance(exc, InvalidToken) else "network"
        log.error("telegram start failed error=%s", type(exc).__name__)
        message = render("chat/run_failed.j2", kind=kind, api_url=settings.telegram_api_url)
        print(message, file=sys.stderr)
        return 1
