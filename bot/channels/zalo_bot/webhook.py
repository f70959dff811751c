"""The Bot Platform webhook as a plain function: headers + body in, an HTTP status out.

The web companion mounts it at `/webhooks/zalo`. The secret header is compared in constant
time. With the durable inbox (bot/chat/inbox.py) the event is committed there before the 200
(Zalo's retry policy is not documented: assume it re-sends) and processed from it; without one
(tests of the adapter alone) it is handed to the adapter in a task.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping

from bot.channels.zalo_bot.adapter import CHANNEL, ZaloBotAdapter, unwrap
from bot.chat.inbox import Inbox

log = logging.getLogger("parbot.zalo")
HEADER = "x-bot-api-secret-token"


async def handle_webhook(
    adapter: ZaloBotAdapter,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    inbox: Inbox | None = None,
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
    if inbox is not None:
        inner = unwrap(event)
        message = inner.get("message") or {}
        sender = message.get("from") or {}
        chat = str((message.get("chat") or {}).get("id") or sender.get("id") or "")
        message_id = str(message.get("message_id") or "")
        name = str(inner.get("event_name") or "")
        key = f"{name}:{message_id}" if message_id else hashlib.sha256(body).hexdigest()
        await inbox.accept(CHANNEL, key, chat or key, body.decode("utf-8", "replace"))
        return 200
    task = asyncio.create_task(adapter.handle(event))
    adapter.tasks.add(task)
    task.add_done_callback(adapter.tasks.discard)
    return 200
