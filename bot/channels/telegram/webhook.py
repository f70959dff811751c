"""Telegram webhook mode, served by the web companion at `/webhooks/telegram`.

PTB's custom-webhook pattern: the Application runs without an Updater (`updater(None)`), the
web app's endpoint puts each update on `application.update_queue`, and the Application's
per-chat update processor orders them exactly as in polling mode. parbot calls setWebhook
itself, once at start, with the secret.

The endpoint checks the secret header first and answers 403 without reading a byte of the
body; an authenticated body over 1 MB is refused (413) as declared or as soon as it passes the
cap. Only then is it parsed.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from bot.channels.telegram.adapter import TelegramAdapter
from bot.web.context import WEBHOOK_BODY_CAP
from bot.web.hooks import RESERVED, Webhooks
from bot.web.security import BodyTooLarge, read_capped

log = logging.getLogger("parbot.telegram.webhook")
SECRET_HEADER = "x-telegram-bot-api-secret-token"


def without_updater(builder: ApplicationBuilder) -> ApplicationBuilder:
    """`build_application(configure=…)` for webhook mode: updates come from the web app."""
    return builder.updater(None)


def endpoint(app: Application, secret: str, cap: int = WEBHOOK_BODY_CAP) -> Any:
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        sent = request.headers.get(SECRET_HEADER, "").encode("latin-1", "replace")
        if not hmac.compare_digest(sent, expected):
            return Response(status_code=403)
        try:
            body = await read_capped(request, cap)
            update = Update.de_json(json.loads(body), app.bot)
        except BodyTooLarge:
            return Response(status_code=413)
        except (ValueError, TypeError, KeyError):
            log.warning("webhook body is not an update")
            return Response(status_code=400)
        await app.update_queue.put(update)
        return Response(status_code=200)

    return receive


@asynccontextmanager
async def serving(
    app: Application,
    adapter: TelegramAdapter,
    webhooks: Webhooks,
    *,
    url: str,
    secret: str,
) -> AsyncIterator[Application]:
    """Run the Application (no updater) with its webhook registered at `/webhooks/telegram`."""
    try:
        await app.initialize()
    except BaseException:
        await adapter.close_requests()
        raise
    async with app:
        await adapter.setup(app)
        await app.start()
        await app.bot.set_webhook(url=url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        webhooks.register("telegram", endpoint(app, secret))
        try:
            yield app
        finally:
            webhooks.unregister("telegram")
            await adapter.teardown()
            if app.running:
                await app.stop()


@asynccontextmanager
async def webhook(
    app: Application,
    adapter: TelegramAdapter,
    *,
    listen: str,
    port: int,
    url: str,
    secret: str,
) -> AsyncIterator[Application]:
    """The bot in webhook mode behind a web companion of its own on `listen:port` (tests)."""
    from bot.web.server import listening, minimal_context

    hooks = Webhooks()
    web = minimal_context(adapter.engine, f"http://{listen}:{port}")
    async with listening(web, listen, port, webhooks=hooks), serving(
        app, adapter, hooks, url=url, secret=secret
    ):
        yield app


PATH = RESERVED["telegram"]


def public_url(settings: Any) -> str | None:
    """Where Telegram posts: TELEGRAM_WEBHOOK_URL, else the web companion's /webhooks/telegram.

    None when the web companion is off (PARBOT_WEB_LISTEN unset): nothing would listen.
    """
    if settings.web_address() is None:
        return None
    if settings.telegram_webhook_url:
        return str(settings.telegram_webhook_url)
    base = settings.web_public_url()
    return f"{base}{PATH}" if base else None
