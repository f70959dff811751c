"""Running the Zalo Official Account channel inside `parbot run` (bot/app.py CHANNELS).

The OA is webhook-only: the web companion serves `/webhooks/zalo-oa` (the body's
`X-ZEvent-Signature` is checked after the 1 MB cap) and the OAuth callback
`/oauth/zalo/callback` that `parbot zalo oa connect` points the administrator to.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot.channels.zalo_oa.service import ZaloOAService
from bot.web.context import WEBHOOK_BODY_CAP
from bot.web.security import BodyTooLarge, read_capped

if TYPE_CHECKING:
    from bot.app import App, Running


@contextlib.asynccontextmanager
async def run_zalo_oa(app: App) -> AsyncIterator[Running]:
    from bot.app import Running

    service = ZaloOAService(app, links=app.files)

    async def events(request: Request) -> Response:
        try:
            body = await read_capped(request, WEBHOOK_BODY_CAP)
        except BodyTooLarge:
            return Response(status_code=413)
        return Response(status_code=await service.webhook(request.headers, body))

    async def oauth(request: Request) -> Response:
        status, text = await service.oauth_callback(dict(request.query_params))
        page = f"<!doctype html><meta charset=utf-8><p>{html.escape(text)}</p>"
        return HTMLResponse(page, status)

    app.webhooks.register("zalo_oa", events)
    app.webhooks.register("zalo_oauth", oauth)
    try:
        yield Running(service.channel, service.channel)
    finally:
        app.webhooks.unregister("zalo_oa")
        app.webhooks.unregister("zalo_oauth")
        await service.aclose()
