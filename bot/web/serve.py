"""`parbot serve`: the web companion alone — pages, links, API, and channel webhooks.

For a second worker behind the same proxy, or a deployment where the chat channels run in
webhook mode: with TELEGRAM_MODE=webhook and a token, the Telegram Application runs here too
(no updater; updates arrive at /webhooks/telegram). Background jobs (reminders, digests, outbox
delivery) stay with `parbot run`: one process should own them.
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
    from bot.runtime import build_runtime, prepare_database

    engine = engine_from_settings(settings)
    prepare_database(settings, engine, seed_if_empty=False)
    runtime = build_runtime(settings, engine)
    hooks = runtime.webhooks
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(alongside(runtime, hooks))
        if settings.telegram_bot_token is not None and settings.telegram_mode == "webhook":
            from bot.channels.telegram import webhook
            from bot.channels.telegram.adapter import build_application

            url = webhook.public_url(settings)
            if url is None or settings.telegram_webhook_secret is None:
                log.error("webhook mode needs PARBOT_WEB_LISTEN and TELEGRAM_WEBHOOK_SECRET")
                return 2
            app, adapter = build_application(
                settings.telegram_bot_token.get_secret_value(),
                settings.telegram_api_url,
                runtime.dispatcher,
                runtime.registry,
                runtime.engine,
                configure=webhook.without_updater,
            )
            secret = settings.telegram_webhook_secret.get_secret_value()
            await stack.enter_async_context(
                webhook.serving(app, adapter, hooks, url=url, secret=secret)
            )
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
