"""Telegram webhook mode, served by the web companion at `/webhooks/telegram`.

PTB's custom-webhook pattern: the Application runs without an Updater (`updater(None)`). The
web app's endpoint records each update in the durable inbox (bot/chat/inbox.py) and answers
200 only once that is committed — Telegram re-sends an update it got no 2xx for, and a crash
after the answer loses nothing. The inbox then hands the updates of one chat, in update_id
order and one at a time across every worker, to `Application.process_update`. parbot calls
setWebhook itself with the secret: at start in one process, on the leader alone with
`parbot serve --workers N`.

`max_connections` (TELEGRAM_WEBHOOK_MAX_CONNECTIONS, 10 by default, Telegram's own default is
40) is set on purpose. Each answer costs only one INSERT, so a connection carries an update per
round trip (≈ 5/s at 200 ms from Telegram's servers): 10 connections carry ≈ 50 updates/s, more
than the ~30 messages/s the bot may send in answer. Fewer parallel connections also keep fewer
updates of one chat in flight at once, and the inbox can only order what has arrived.

The endpoint checks the secret header first and answers 403 without reading a byte of the
body; an authenticated body over 1 MB is refused (413) as declared or as soon as it passes the
cap. Only then is it parsed.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from bot.channels.telegram.adapter import CHANNEL, TelegramAdapter
from bot.chat.inbox import Inbox
from bot.web.context import WEBHOOK_BODY_CAP
from bot.web.hooks import RESERVED, Webhooks
from bot.web.security import BodyTooLarge, read_capped

log = logging.getLogger("parbot.telegram.webhook")
SECRET_HEADER = "x-telegram-bot-api-secret-token"
MAX_CONNECTIONS = 10
LeaderDuty = Callable[[], Awaitable[Any]]


def without_updater(builder: ApplicationBuilder) -> ApplicationBuilder:
    """`build_application(configure=…)` for webhook mode: updates come from the web app."""
    return builder.updater(None)


def chat_key(update: Update) -> str:
    """The order domain of an update: its chat (or its user, or the update alone)."""
    if update.effective_chat is not None:
        return str(update.effective_chat.id)
    if update.effective_user is not None:
        return f"user:{update.effective_user.id}"
    return f"update:{update.update_id}"


def endpoint(
    app: Application, secret: str, inbox: Inbox, cap: int = WEBHOOK_BODY_CAP
) -> Any:
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        sent = request.headers.get(SECRET_HEADER, "").encode("latin-1", "replace")
        if not hmac.compare_digest(sent, expected):
            return Response(status_code=403)
        try:
            body = await read_capped(request, cap)
            data = json.loads(body)
            update = Update.de_json(data, app.bot)
            update_id = int(data["update_id"])
        except BodyTooLarge:
            return Response(status_code=413)
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("webhook body is not an update")
            return Response(status_code=400)
        payload = json.dumps(data, ensure_ascii=False)
        # committed before the 200: if this raises, Telegram gets a 500 and sends it again
        await inbox.accept(CHANNEL, str(update_id), chat_key(update), payload, seq=update_id)
        return Response(status_code=200)

    return receive


def processor(app: Application) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """The inbox's processor for Telegram: the stored update through PTB's handlers."""

    async def process(data: dict[str, Any]) -> None:
        update = Update.de_json(data, app.bot)
        await app.process_update(update)

    return process


@asynccontextmanager
async def serving(
    app: Application,
    adapter: TelegramAdapter,
    webhooks: Webhooks,
    *,
    url: str,
    secret: str,
    inbox: Inbox | None = None,
    leader_duties: list[LeaderDuty] | None = None,
    max_connections: int = MAX_CONNECTIONS,
) -> AsyncIterator[Application]:
    """Run the Application (no updater) with its webhook registered at `/webhooks/telegram`.

    `inbox`: the process's inbox (one is run for the block when none is given).
    `leader_duties`: with several workers, setWebhook and the command menus are appended there
    for the leader to run, instead of being done here by every worker.
    """
    try:
        await app.initialize()
    except BaseException:
        await adapter.close_requests()
        raise

    async def register() -> None:
        await app.bot.set_webhook(
            url=url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            max_connections=max_connections,
        )
        log.info("telegram setWebhook done max_connections=%s", max_connections)

    async def menus() -> None:
        await adapter.publish_menus(app)

    async with app, AsyncExitStack() as stack:
        await adapter.setup(app, menus=leader_duties is None)
        await app.start()
        if inbox is None:
            inbox = await stack.enter_async_context(Inbox(adapter.engine).running())
        inbox.register(CHANNEL, processor(app))
        if leader_duties is None:
            await register()
        else:
            leader_duties += [register, menus]
        webhooks.register("telegram", endpoint(app, secret, inbox))
        try:
            yield app
        finally:
            webhooks.unregister("telegram")
            inbox.unregister(CHANNEL)
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
