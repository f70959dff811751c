"""`parbot serve`: the web companion alone — pages, links, API, and channel webhooks.

For a second worker behind the same proxy, or a deployment where the chat channels run in
webhook mode: with TELEGRAM_MODE=webhook and a token, the Telegram Application runs here too
(no updater; updates arrive at /webhooks/telegram). Background jobs (reminders, digests, outbox
delivery) stay with `parbot run`: one process should own them.

`parbot serve --workers N` is the scale-out path instead (bot/web/workers.py): N processes that
each serve everything and deliver, with one leader for what must run once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from bot.app import configure_logging, engine_from_settings
from bot.settings import Settings
from bot.web.server import alongside
from messages.render import render

log = logging.getLogger("parbot.web")


async def serve(settings: Settings, stop: asyncio.Event) -> int:
    from bot.app import TELEGRAM, StartRefused, build_app
    from bot.runtime import prepare_database

    engine = engine_from_settings(settings)
    prepare_database(settings, engine, seed_if_empty=False)
    app = build_app(settings, engine)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(alongside(app, app.webhooks))
        if app.inbox is not None:
            await stack.enter_async_context(app.inbox.running())
        if settings.telegram_bot_token is not None and settings.telegram_mode == "webhook":
            try:
                started = await stack.enter_async_context(TELEGRAM.run(app))
            except StartRefused as exc:
                log.error("%s", exc)
                return 2
            app.dispatcher.attach(started.chat)
            for duty in app.leader_duties:  # no scheduler here: setWebhook is done at once
                await duty()
        print(render("web/serving.j2", url=settings.web_public_url()), file=sys.stderr)
        await stop.wait()
    return 0


def main(settings: Settings) -> int:
    configure_logging(settings)
    try:
        address = settings.web_address()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if address is None:
        print(render("web/cli_off.j2"), file=sys.stderr)
        return 2

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        return await serve(settings, stop)

    return asyncio.run(run())
