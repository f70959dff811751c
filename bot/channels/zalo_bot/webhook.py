"""The Bot Platform webhook as a plain function: headers + body in, an HTTP status out.

The web companion mounts it at `/webhooks/zalo`. The secret header is compared in constant
time; the event is handed to the adapter in a task and 200 goes back at once (Zalo's retry
policy is not documented, so a slow answer must not risk a resend). A durable inbox before
the 200 is the web helper's (design principle 10).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Mapping

from bot.channels.zalo_bot.adapter import ZaloBotAdapter

log = logging.getLogger("parbot.zalo")
HEADER = "x-bot-api-secret-token"


async def handle_webhook(
    adapter: ZaloBotAdapter, secret: str, headers: Mapping[str, str], body: bytes
) -> int:
    given = next((v for k, v in headers.items() if k.lower() == HEADER), "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("zalo webhook refused: wrong secret token")
        return 403
    try:
        event = json.loads(body)
    except ValueError:
        return 400
    if not isinstance(event, dict):
        return 400
    task = asyncio.create_task(adapter.handle(event))
    adapter.tasks.add(task)
    task.add_done_callback(adapter.tasks.discard)
    return 200
