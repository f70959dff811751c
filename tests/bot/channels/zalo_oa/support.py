"""An OA channel built from settings against the fake OA, connected through OAuth."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any

from bot.app import build_app as build_runtime
from bot.channels.zalo_oa.service import ZaloOAService
from bot.settings import Settings
from core.clock import FixedClock
from tests.fakes.zalo.oa import FakeZaloOA
from tests.support.chat import T0


def settings_for(oa: FakeZaloOA, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,
        ZALO_OA_APP_ID=oa.app_id,
        ZALO_OA_APP_SECRET=oa.app_secret,
        ZALO_OA_SECRET_KEY=oa.oa_secret,
        ZALO_OA_API_URL=oa.base_url,
        ZALO_OAUTH_URL=oa.base_url,
        ZALO_ZNS_API_URL=oa.base_url,
        PARBOT_WEB_URL="https://parbot.example.gov.vn",
        **extra,
    )


def service_for(
    oa: FakeZaloOA, engine, clock: FixedClock | None = None, **extra: Any
) -> ZaloOAService:
    runtime = build_runtime(settings_for(oa, **extra), engine, clock or FixedClock(T0))
    return ZaloOAService(runtime)


async def connect(service: ZaloOAService, oa: FakeZaloOA) -> dict[str, str]:
    """The admin opens the consent URL and approves; Zalo calls back with code and state."""
    url = service.consent_url()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    code = oa.consent(query["code_challenge"])
    status, _page = await service.oauth_callback(
        {"code": code, "state": query["state"], "oa_id": oa.oa_id}
    )
    assert status == 200
    return query


async def deliver(
    service: ZaloOAService, oa: FakeZaloOA, user: str, event: str = "user_send_text", **message: Any
) -> int:
    """A signed webhook delivery, processed to the end (replies sent)."""
    headers, body = oa.event(user, event, **message)
    status = await service.webhook(headers, body)
    await asyncio.gather(*service.adapter.tasks)
    if service.adapter.inbox is not None:  # recorded before the 200; processed from the inbox
        await service.adapter.inbox.drain()
    return status


def last_buttons(oa: FakeZaloOA, user: str) -> list[dict[str, str]]:
    for call in reversed(oa.sent(user)):
        attachment = (call.params.get("message") or {}).get("attachment") or {}
        buttons = (attachment.get("payload") or {}).get("buttons")
        if buttons:
            return buttons
    raise AssertionError("no message with buttons")


def texts_since(oa: FakeZaloOA, user: str, since: int) -> str:
    return "\n---\n".join(
        str((c.params.get("message") or {}).get("text") or json.dumps(c.params.get("message")))
        for c in oa.sent(user)[since:]
    )
