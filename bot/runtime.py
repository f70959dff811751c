"""What `parbot run` runs: every configured channel, the scheduler and the delivery worker.

Built by the composition root (bot/app.py); this module only starts and stops. Every channel
whose settings are present is started (CHANNELS in bot/app.py); without any, the console is
the default. The scheduler's jobs and the outbox worker send through every started channel,
each paced by its own limits; a sweep expires idle flows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from datetime import timedelta
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.app import (
    FEATURES,
    App,
    StartRefused,
    build_app,
    build_registry,
    chat_config,
    configure_logging,
    engine_from_settings,
    limits_from,
)
from bot.settings import Settings
from bot.web.server import alongside as web_alongside
from messages.render import render
from storage.migrate import upgrade
from storage.seed import load_seed
from storage.tables.shared import Agency

__all__ = ["FEATURES", "build_registry", "chat_config", "limits_from", "main"]

SWEEP_EVERY = timedelta(minutes=5)

log = logging.getLogger("parbot.runtime")


async def _sweep_idle(app: App) -> None:
    while True:
        try:
            expired = await asyncio.to_thread(app.dispatcher.expire_idle)
            pruned = await asyncio.to_thread(app.dispatcher.prune_updates)
            if expired or pruned:
                log.info("chat sweep expired_flows=%s pruned_updates=%s", expired, pruned)
        except Exception:
            log.exception("idle flow sweep failed")
        await asyncio.sleep(SWEEP_EVERY.total_seconds())


@contextlib.asynccontextmanager
async def background(app: App) -> Any:
    """The scheduler, the delivery worker and the idle sweep, for the duration of the block.
    With several workers the sweep is the leader's (it writes the same rows everywhere)."""
    tasks: list[asyncio.Task[None]] = []
    if app.shared:

        async def sweep_when_leading() -> None:
            tasks.append(asyncio.create_task(_sweep_idle(app)))

        app.leader_duties.append(sweep_when_leading)
    else:
        tasks.append(asyncio.create_task(_sweep_idle(app)))
    service = app.scheduling()
    await service.start()
    for feature in app.features:  # a feature's own background loop (the web link prune)
        runner = getattr(feature, "run", None)
        if runner is not None:
            tasks.append(asyncio.create_task(runner(app)))
    try:
        yield service
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await service.stop()


def prepare_database(settings: Settings, engine: Engine, seed_if_empty: bool) -> None:
    """Schema up to date; on the console, an empty database gets the shipped plan."""
    upgrade(engine)
    if not seed_if_empty:
        return
    with Session(engine) as session:
        agencies = session.execute(select(func.count()).select_from(Agency)).scalar_one()
    if agencies == 0:
        load_seed(engine, settings.seed_folder())


async def run_console(app: App, stdin: TextIO, stdout: TextIO) -> int:
    from bot.channels.console.app import ConsoleChat
    from bot.channels.console.channel import ConsoleChannel, demo_recipient_label

    channel = ConsoleChannel(stdout, demo_recipient_label(app.engine))
    app.channels[channel.name] = channel
    chat = ConsoleChat(app.dispatcher, stdout, echo=not stdin.isatty(), channel=channel)
    # The pending question first, then the background work: its start-up resend of unsent
    # prompts must not race the console's own.
    await asyncio.to_thread(chat.welcome)
    async with web_alongside(app, app.webhooks), background(app):
        return await chat.arun(stdin, welcomed=True)


async def start_channels(
    app: App, stack: contextlib.AsyncExitStack, serve_web: bool = True
) -> int:
    """Enter, on `stack`: the web companion (unless uvicorn already serves it), the inbox,
    every configured channel, then the background work. 0, or 2 when a channel refused."""
    if serve_web:
        await stack.enter_async_context(web_alongside(app, app.webhooks))
    if app.inbox is not None:  # before the channels: their webhooks record into it
        await stack.enter_async_context(app.inbox.running())
    for plugin in app.configured():
        try:
            started = await stack.enter_async_context(plugin.run(app))
        except StartRefused as exc:
            log.error("%s", exc)
            return 2
        app.dispatcher.attach(started.chat)
        app.channels[started.delivery.name] = started.delivery
    await stack.enter_async_context(background(app))
    return 0


async def run_channels(app: App, stop: asyncio.Event) -> int:
    """Start every configured channel, then the background work; run until `stop`."""
    async with contextlib.AsyncExitStack() as stack:
        code = await start_channels(app, stack)
        if code:
            return code
        await stop.wait()
    return 0


def main(settings: Settings, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """`parbot run`: every channel that has its settings, otherwise the console."""
    engine = engine_from_settings(settings)
    app = build_app(settings, engine)
    console = not app.configured()
    prepare_database(settings, engine, seed_if_empty=console)
    configure_logging(settings)
    if console:
        return asyncio.run(run_console(app, stdin or sys.stdin, stdout or sys.stdout))

    async def serve() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        return await run_channels(app, stop)

    from telegram.error import InvalidToken, TelegramError

    try:
        return asyncio.run(serve())
    except TelegramError as exc:  # never print the exception: InvalidToken quotes the token
        kind = "token" if isinstance(exc, InvalidToken) else "network"
        log.error("telegram start failed error=%s", type(exc).__name__)
        message = render("chat/run_failed.j2", kind=kind, api_url=settings.telegram_api_url)
        print(message, file=sys.stderr)
        return 1
