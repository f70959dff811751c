"""Running the Telegram channel inside `parbot run` (registered in bot/app.py CHANNELS).

Long polling by default; with TELEGRAM_MODE=webhook, updates arrive through the web
companion at /webhooks/telegram (bot/channels/telegram/webhook.py). The block yields the
chat-side channel (replies) and a delivery-side one with a bot of its own for the outbox worker.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bot.channels.outbound_proxy import proxy_for
from bot.channels.telegram import webhook
from bot.channels.telegram.adapter import build_application, polling
from bot.channels.telegram.delivery import delivery_channel

if TYPE_CHECKING:
    from bot.app import App, Running

log = logging.getLogger("parbot.telegram")


@asynccontextmanager
async def run_telegram(app: App) -> AsyncIterator[Running]:
    from bot.app import Running, StartRefused

    settings = app.settings
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value()
    hooked = settings.telegram_mode == "webhook"
    proxy = proxy_for(settings, settings.telegram_api_url)
    ptb, adapter = build_application(
        token,
        settings.telegram_api_url,
        app.dispatcher,
        app.registry,
        app.engine,
        configure=webhook.without_updater if hooked else None,
        proxy=proxy,
    )
    adapter.username = settings.telegram_bot_username
    if hooked:
        url = webhook.public_url(settings)
        if url is None or not settings.telegram_webhook_secret:
            raise StartRefused("webhook mode needs PARBOT_WEB_LISTEN and TELEGRAM_WEBHOOK_SECRET")
        serving = webhook.serving(
            ptb,
            adapter,
            app.webhooks,
            url=url,
            secret=settings.telegram_webhook_secret.get_secret_value(),
            inbox=app.inbox,
            leader_duties=app.leader_duties,
            max_connections=settings.telegram_webhook_max_connections,
        )
    else:
        serving = polling(ptb, adapter)
    async with serving:
        chat = adapter.channel(ptb)
        delivery, bot = delivery_channel(
            token, settings.telegram_api_url, app.engine, settings.telegram_bot_username, proxy
        )
        async with bot:
            log.info(
                "telegram bot running mode=%s username=%s", settings.telegram_mode, ptb.bot.username
            )
            yield Running(chat, delivery)
    log.info("telegram bot stopped")
