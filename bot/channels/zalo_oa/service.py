"""The OA channel assembled from settings: keeper, client, channel, adapter, callbacks.

The web companion mounts `webhook` at `/webhooks/zalo-oa` and `oauth_callback` at
`/oauth/zalo/callback`; the delivery worker gets `channel`. When the refresh token is lost the
admins are told (outbox) with a fresh consent link.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bot.channels.outbound_proxy import proxy_for
from bot.channels.zalo_oa.adapter import ZaloOAAdapter
from bot.channels.zalo_oa.channel import ZaloOAChannel
from bot.channels.zalo_oa.client import ZaloOAClient
from bot.channels.zalo_oa.oauth import OAuthApp, TokenKeeper, consent_url, exchange_code
from core.files import FileLinks
from messages.render import render
from storage.chat.evidence import evidence_loader
from storage.zalo.alerts import contact_id_of, tell_staff_now
from storage.zalo.window import window_of

CHANNEL = "zalo_oa"


def oauth_app(settings: Any) -> OAuthApp:
    secret = settings.zalo_oa_app_secret
    web = (settings.web_url or "").rstrip("/")
    return OAuthApp(
        app_id=settings.zalo_oa_app_id or "",
        app_secret=secret.get_secret_value() if secret is not None else "",
        oauth_url=settings.zalo_oauth_url,
        redirect_uri=f"{web}/oauth/zalo/callback",
        proxy=proxy_for(settings, settings.zalo_oauth_url),
    )


class ZaloOAService:
    def __init__(self, runtime: Any, links: FileLinks | None = None) -> None:
        settings = runtime.settings
        self.engine, self.clock = runtime.engine, runtime.clock
        self.app = oauth_app(settings)
        self.keeper = TokenKeeper(self.engine, self.app, self.clock, on_lost=self.token_lost)
        self.client = ZaloOAClient(
            self.keeper,
            settings.zalo_oa_api_url,
            settings.zalo_zns_api_url,
            proxy=proxy_for(settings, settings.zalo_oa_api_url),
        )
        self.channel = ZaloOAChannel(
            self.client,
            now=self.clock.now,
            window_of=lambda user: window_of(self.engine, CHANNEL, user),
            window_hours=settings.zalo_oa_window_hours,
            links=links,
            contact_of=lambda chat: contact_id_of(self.engine, CHANNEL, chat),
            load_evidence=evidence_loader(self.engine),
            zns_template=settings.zalo_zns_template_id,
            web_url=settings.web_url,
            rate=settings.zalo_send_rate,
        )
        key = settings.zalo_oa_secret_key
        runtime.dispatcher.attach(self.channel)
        self.adapter = ZaloOAAdapter(
            runtime.dispatcher,
            self.channel,
            self.engine,
            self.clock,
            self.app.app_id,
            key.get_secret_value() if key is not None else "",
        )
        self.adapter.inbox = getattr(runtime, "inbox", None)
        if self.adapter.inbox is not None:  # webhook events are processed from the inbox
            self.adapter.inbox.register(CHANNEL, self.adapter.handle)

    def consent_url(self) -> str:
        return consent_url(self.engine, self.app, self.clock.now())

    def token_lost(self) -> None:
        now = self.clock.now()
        text = render("zalo/oa_token_lost.j2", link=self.consent_url())
        tell_staff_now(self.engine, f"zalo-oa-token-lost:{now:%Y-%m-%d}", text, now)

    async def oauth_callback(self, query: Mapping[str, str]) -> tuple[int, str]:
        """`GET /oauth/zalo/callback?code=&state=&oa_id=`: (HTTP status, page text)."""
        code, state = query.get("code", ""), query.get("state", "")
        if not code or not state:
            return 400, render("zalo/oa_connect_failed.j2")
        ok = await asyncio.to_thread(
            exchange_code,
            self.engine,
            self.app,
            code,
            state,
            self.clock.now(),
            query.get("oa_id", ""),
        )
        if not ok:
            return 400, render("zalo/oa_connect_failed.j2")
        return 200, render("zalo/oa_connected.j2")

    async def webhook(self, headers: Mapping[str, str], body: bytes) -> int:
        return await self.adapter.webhook(headers, body)

    async def aclose(self) -> None:
        await self.client.aclose()
