"""Running the Zalo Bot Platform channel inside `parbot run` (registered in bot/app.py CHANNELS).

Polling by default (for trying it: getUpdates has no acknowledgement, so a message that
arrives while nothing polls is lost); with ZALO_BOT_MODE=webhook the web companion serves
`/webhooks/zalo` and parbot calls setWebhook itself. The secret header is compared in constant
time before a byte of the body is read; the body is capped at 1 MB.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.channels.zalo_bot.service import ZaloBotService
from bot.web.context import WEBHOOK_BODY_CAP
from bot.web.security import BodyTooLarge, read_capped

if TYPE_CHECKING:
    from bot.app import App, Running

SECRET_HEADER = "x-bot-api-secret-token"


def endpoint(service: ZaloBotService) -> object:
    expected = service.secret.encode()

    async def receive(request: Request) -> Response:
        sent = request.headers.get(SECRET_HEADER, "").encode("latin-1", "replace")
        if not expected or not hmac.compare_digest(sent, expected):
            return Response(status_code=403)
        try:
            body = await read_capped(request, WEBHOOK_BODY_CAP)
        except BodyTooLarge:
            return Response(status_code=413)
        return Response(status_code=await service.webhook(request.headers, body))

    return receive


@contextlib.asynccontextmanager
async def run_zalo_bot(app: App) -> AsyncIterator[Running]:
    from bot.app import Running

    service = ZaloBotService(app, links=app.files)
    if service.mode == "webhook":
        app.webhooks.register("zalo", endpoint(service))  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        yield Running(service.channel, service.channel)
    finally:
        stop.set()
        app.webhooks.unregister("zalo")
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, timeout=10)
