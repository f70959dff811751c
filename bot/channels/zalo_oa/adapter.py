"""Zalo OA webhook events → `Request`, replies through `ZaloOAChannel`.

The handler is a plain function (headers + body → status) the web companion mounts at
`/webhooks/zalo-oa`: the signature is checked first, the event is handed to a task and 200
goes back at once (Zalo wants an answer within ~2 s and retries otherwise, zalo.md §2 [M]).
Every inbound message moves the user's messaging window. A text that starts with the button
payload prefix is a button tap: it becomes a button press with that data, which the
dispatcher redeems only for the contact it was issued to — a forged payload is refused and
audited there. Files and images are downloaded at once (their URLs are temporary).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from bot.channels.zalo_bot.adapter import looks_like_code
from bot.channels.zalo_oa.channel import PAYLOAD_PREFIX, ZaloOAChannel
from bot.channels.zalo_oa.signature import valid
from bot.chat.dispatcher import Dispatcher
from bot.chat.inbox import Inbox
from bot.chat.replies import put_off_through, send_replies
from core.clock import Clock
from core.commands import InputKind, Request
from core.conversation import IncomingFile
from core.outgoing import Outgoing
from core.text import nfc
from storage.zalo.alerts import is_linked
from storage.zalo.window import touch

log = logging.getLogger("parbot.zalo_oa")
CHANNEL = "zalo_oa"
HEADER = "x-zevent-signature"
MESSAGE_EVENTS = {"user_send_text", "user_send_image", "user_send_file"}
OTHER_MESSAGES = {
    "user_send_link",
    "user_send_sticker",
    "user_send_audio",
    "user_send_video",
    "user_send_location",
    "user_send_gif",
}


class ZaloOAAdapter:
    def __init__(
        self,
        dispatcher: Dispatcher,
        channel: ZaloOAChannel,
        engine: Engine,
        clock: Clock,
        app_id: str,
        secret_key: str,
    ) -> None:
        self.dispatcher, self.channel, self.engine, self.clock = dispatcher, channel, engine, clock
        self.app_id, self.secret_key = app_id, secret_key
        self.max_file_bytes = dispatcher.limits.max_file_bytes
        self.tasks: set[asyncio.Task[None]] = set()
        # the durable inbox (set by the service): events are answered 200 once recorded
        self.inbox: Inbox | None = None
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    async def webhook(self, headers: Mapping[str, str], body: bytes) -> int:
        try:
            event = json.loads(body)
        except ValueError:
            return 400
        if not isinstance(event, dict):
            return 400
        header = next((v for k, v in headers.items() if k.lower() == HEADER), "")
        timestamp = str(event.get("timestamp") or "")
        if str(event.get("app_id") or "") != self.app_id or not valid(
            header, self.app_id, body, timestamp, self.secret_key
        ):
            log.warning("zalo oa webhook refused: bad signature")
            return 403
        if self.inbox is not None:  # committed before the 200 (Zalo may re-send)
            user = str((event.get("sender") or {}).get("id") or "")
            message_id = str((event.get("message") or {}).get("msg_id") or "")
            name = str(event.get("event_name") or "")
            key = f"{name}:{message_id}" if message_id else hashlib.sha256(body).hexdigest()
            await self.inbox.accept(CHANNEL, key, user or key, body.decode("utf-8", "replace"))
            return 200
        task = asyncio.create_task(self.handle(event))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return 200

    async def handle(self, event: dict[str, Any]) -> None:
        user = str((event.get("sender") or {}).get("id") or "")
        lock = self._locks.setdefault(user, asyncio.Lock())
        async with lock:
            await self._handle(event, user)

    async def _handle(self, event: dict[str, Any], user: str) -> None:
        name = str(event.get("event_name") or "")
        message = event.get("message") or {}
        message_id = str(message.get("msg_id") or "")
        if not user or (name not in MESSAGE_EVENTS and name not in OTHER_MESSAGES):
            log.info("zalo oa event ignored event_name=%s", name[:60])
            return
        if message_id and self._replayed(message_id):
            return
        await asyncio.to_thread(touch, self.engine, CHANNEL, user, self.clock.now())
        request = await self.request_of(name, message, user)
        if self.engine.dialect.name == "sqlite":
            response = self.dispatcher.handle(request, run_deferred=False)
        else:
            response = await asyncio.to_thread(self.dispatcher.handle, request, False)
        if response.deferred:
            await asyncio.to_thread(self.dispatcher.run_deferred, response)
        if response.duplicate:
            return
        messages = ([response.edit] if response.edit else []) + response.messages
        if not messages and response.acknowledge:
            messages = [Outgoing(response.acknowledge)]
        await send_replies(self.channel, user, messages, put_off_through(self.dispatcher, request))

    async def request_of(self, name: str, message: dict[str, Any], user: str) -> Request:
        message_id = str(message.get("msg_id") or "")
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "chat_id": user,
            "user_id": user,
            "dedupe_key": message_id or None,  # the OA event's msg_id
        }
        if name == "user_send_text":
            text = nfc(str(message.get("text") or "")).strip()
            if text.startswith(PAYLOAD_PREFIX):
                return Request(kind=InputKind.BUTTON, button=text[len(PAYLOAD_PREFIX) :], **base)
            if text.startswith("/") and len(text) > 1:
                head, _, rest = text[1:].partition(" ")
                return Request(
                    kind=InputKind.COMMAND, command=head.lower(), text=rest.strip(), **base
                )
            if looks_like_code(text) and not await asyncio.to_thread(
                is_linked, self.engine, CHANNEL, user
            ):
                return Request(kind=InputKind.COMMAND, command="start", text=text, **base)
            return Request(kind=InputKind.TEXT, text=text, **base)
        if name in ("user_send_file", "user_send_image"):
            file = await self.fetch(message, image=name == "user_send_image")
            if file is not None:
                return Request(kind=InputKind.FILE, file=file, **base)
        if name == "user_send_sticker":
            return Request(kind=InputKind.STICKER, **base)
        if name == "user_send_audio":
            return Request(kind=InputKind.VOICE, **base)
        return Request(kind=InputKind.OTHER, **base)

    async def fetch(self, message: dict[str, Any], image: bool) -> IncomingFile | None:
        attachments = message.get("attachments") or []
        if not attachments:
            return None
        payload = attachments[0].get("payload") or {}
        url = str(payload.get("url") or "")
        if not url.startswith(("http://", "https://")):
            return None
        content = await self.channel.client.download(url, self.max_file_bytes)
        if content is None:
            return IncomingFile(
                str(payload.get("name") or "tep"), "", self.max_file_bytes + 1, None
            )
        default = f"anh-zalo-{str(message.get('msg_id'))[:12]}.jpg" if image else "tep-zalo"
        name = nfc(str(payload.get("name") or default))[:200]
        mime = "image/jpeg" if image else str(payload.get("type") or "")
        return IncomingFile(name, mime, len(content), content)

    def _replayed(self, key: str) -> bool:
        now = time.monotonic()
        while self._seen and next(iter(self._seen.values())) < now - 300:
            self._seen.popitem(last=False)
        if key in self._seen:
            return True
        self._seen[key] = now
        return False
