"""The Bot Platform channel assembled from settings: what the composition root starts.

One object holds the client, the `Channel` (for the delivery worker), the adapter (for the web
companion's `/webhooks/zalo`) and `run(stop)`: polling, or in webhook mode a setWebhook to
`{PARBOT_WEB_URL}/webhooks/zalo`. Counting the monthly quota and telling staff (a refused
token, 80 % of the quota) happen here, through the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from bot.channels.outbound_proxy import proxy_for
from bot.channels.zalo_bot.adapter import ZaloBotAdapter
from bot.channels.zalo_bot.channel import ZaloBotChannel
from bot.channels.zalo_bot.client import ZaloBotClient
from bot.channels.zalo_bot.polling import poll
from bot.channels.zalo_bot.webhook import handle_webhook
from core.files import FileLinks
from messages.render import render
from storage.zalo.alerts import tell_staff_now
from storage.zalo.quota import count_and_check, usage

log = logging.getLogger("parbot.zalo")
CHANNEL = "zalo"


class ZaloBotService:
    def __init__(self, runtime: Any, links: FileLinks | None = None) -> None:
        settings = runtime.settings
        assert settings.zalo_bot_token is not None
        self.runtime = runtime
        self.engine, self.clock = runtime.engine, runtime.clock
        self.quota = settings.zalo_bot_quota
        self.mode = settings.zalo_bot_mode
        self.web_url = settings.web_url
        secret = settings.zalo_bot_webhook_secret
        self.secret = secret.get_secret_value() if secret is not None else ""
        self.client = ZaloBotClient(
            settings.zalo_bot_token.get_secret_value(),
            settings.zalo_bot_api_url,
            proxy=proxy_for(settings, settings.zalo_bot_api_url),
        )
        self.channel = ZaloBotChannel(
            self.client,
            links,
            rate=settings.zalo_send_rate,
            contact_of=self._contact_of,
            count=self.count,
            on_token_refused=self.token_refused,
        )
        # numbered choices are remembered by the dispatcher and the delivery worker (in the
        # database), which learn the channel's capabilities here
        runtime.dispatcher.attach(self.channel)
        self.adapter = ZaloBotAdapter(runtime.dispatcher, self.channel, self.engine)
        self.adapter.inbound = lambda: self.count(1)
        inbox = getattr(runtime, "inbox", None)
        if inbox is not None:  # webhook events are processed from the inbox
            inbox.register("zalo", self.adapter.handle)

    def _contact_of(self, chat_id: str) -> int | None:
        from storage.zalo.alerts import contact_id_of

        return contact_id_of(self.engine, CHANNEL, chat_id)

    def count(self, n: int) -> None:
        """One message in or out; at 80 % of the month's quota the coordinators are told."""
        now = self.clock.now()
        if count_and_check(self.engine, CHANNEL, now, self.quota, n):
            with Session(self.engine) as session:
                used = usage(session, CHANNEL, now, self.quota)
            text = render(
                "zalo/quota_warning.j2", used=used.used, limit=self.quota, month=used.month
            )
            tell_staff_now(
                self.engine,
                f"zalo-quota-80:{used.month}",
                text,
                now,
                roles=("coordinator", "admin"),
            )

    def token_refused(self) -> None:
        now = self.clock.now()
        text = render("zalo/token_invalid.j2")
        tell_staff_now(
            self.engine, f"zalo-token-invalid:{now:%Y-%m-%d}", text, now, skip_channel=CHANNEL
        )

    async def webhook(self, headers: Mapping[str, str], body: bytes) -> int:
        """For the web companion: `POST /webhooks/zalo`."""
        inbox = getattr(self.runtime, "inbox", None)
        return await handle_webhook(self.adapter, self.secret, headers, body, inbox)

    async def _set_webhook(self) -> None:
        assert self.web_url is not None
        await self.client.set_webhook(f"{self.web_url.rstrip('/')}/webhooks/zalo", self.secret)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            if self.mode == "webhook":
                if not self.web_url or not self.secret:
                    log.error("zalo webhook mode needs PARBOT_WEB_URL and ZALO_BOT_WEBHOOK_SECRET")
                    return
                if getattr(self.runtime, "shared", False):  # several workers: the leader's
                    self.runtime.leader_duties.append(self._set_webhook)
                else:
                    await self._set_webhook()
                log.info("zalo bot running mode=webhook")
                await stop.wait()
            else:
                log.info("zalo bot running mode=polling")
                await poll(self.client, self.adapter, stop, on_invalid_token=self.token_refused)
        finally:
            await self.client.aclose()
