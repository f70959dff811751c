"""Zalo Bot Platform events → `Request`, the dispatcher's `Response` → `ZaloBotChannel.send`.

Events (zalo.md §1): text, image (downloaded at once: its URL is temporary, and it is accepted
as evidence), sticker, unsupported (what Zalo sends for protected users: answered politely),
anything else logged by name only. Zalo has no update ids; `message_id` (an opaque string) is
the dedupe key: a replay within minutes is dropped here, and the dispatcher's processed-update
table drops it after a restart too. Typed numbers are mapped to choices by the dispatcher.

A bare invite code from a chat not yet linked is read as `/start CODE`: Zalo users cannot
open a deep link with a parameter, they type or paste what they were given.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy.engine import Engine

from bot.channels.zalo_bot.channel import ZaloBotChannel
from bot.chat.dispatcher import Dispatcher
from bot.chat.replies import PutOff, put_off_through, send_replies
from core.channel import DeliveryError
from core.commands import InputKind, Request
from core.conversation import IncomingFile
from core.outgoing import Outgoing
from core.text import nfc
from messages.render import render
from storage.chat.invites import ALPHABET, CODE_LENGTH, normalise_code
from storage.zalo.alerts import is_linked

log = logging.getLogger("parbot.zalo")
CHANNEL = "zalo"
SEEN_FOR = 300.0  # seconds a message id is remembered in memory (as OpenClaw does)


def unwrap(body: dict[str, Any]) -> dict[str, Any]:
    """Webhook bodies may come bare or as `{ok, result}` (zalo.md §1 [D][U]): accept both."""
    inner = body.get("result")
    return inner if isinstance(inner, dict) and "event_name" in inner else body


def looks_like_code(text: str) -> bool:
    code = normalise_code(text)
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code) and len(text) < 40


class ZaloBotAdapter:
    def __init__(
        self,
        dispatcher: Dispatcher,
        channel: ZaloBotChannel,
        engine: Engine,
    ) -> None:
        self.dispatcher = dispatcher
        self.channel = channel
        self.engine = engine
        self.max_file_bytes = dispatcher.limits.max_file_bytes
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        # typed numbers are mapped to choices by the dispatcher, from the numbers it and the
        # delivery worker offered (kept in the database: they survive a restart)
        self.inbound = lambda: None  # quota counter hook: one received message

    # -- one event
    async def handle(self, body: dict[str, Any]) -> None:
        """Process one event (polling or webhook), in order per chat."""
        event = unwrap(body)
        message = event.get("message") or {}
        chat_id = str((message.get("chat") or {}).get("id") or "")
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            await self._handle(event)

    async def _handle(self, event: dict[str, Any]) -> None:
        name = str(event.get("event_name") or "")
        message = event.get("message") or {}
        message_id = str(message.get("message_id") or "")
        sender = message.get("from") or {}
        chat_id = str((message.get("chat") or {}).get("id") or sender.get("id") or "")
        if not chat_id or sender.get("is_bot"):
            return
        if message_id and self._replayed(f"{name}:{message_id}"):
            log.info("zalo duplicate skipped message_id=%s", message_id)
            return
        self.inbound()
        if name == "message.unsupported.received":
            await self._say(chat_id, [Outgoing(render("zalo/unsupported.j2"))])
            return
        request = await self.request_of(name, message, chat_id)
        if request is None:
            log.info("zalo event ignored event_name=%s", name[:60])
            return
        if self.engine.dialect.name == "sqlite":
            response = self.dispatcher.handle(request, run_deferred=False)
        else:
            response = await asyncio.to_thread(self.dispatcher.handle, request, False)
        if response.deferred:  # slow work (a compiled report): show that the bot is on it
            await self._typing(chat_id)
            await asyncio.to_thread(self.dispatcher.run_deferred, response)
        if response.duplicate:
            return
        messages = ([response.edit] if response.edit else []) + response.messages
        if not messages and response.acknowledge:
            messages = [Outgoing(response.acknowledge)]
        await self._say(chat_id, messages, put_off_through(self.dispatcher, request))

    async def request_of(self, name: str, message: dict[str, Any], chat_id: str) -> Request | None:
        sender = message.get("from") or {}
        message_id = str(message.get("message_id") or "")
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "chat_id": chat_id,
            "user_id": str(sender.get("id") or chat_id),
            "dedupe_key": message_id or None,  # Zalo's message id: a replay changes nothing
            "display_name": nfc(str(sender.get("display_name") or ""))[:200],
        }
        if name == "message.text.received":
            text = nfc(str(message.get("text") or "")).strip()
            if text.startswith("/") and len(text) > 1:
                head, _, rest = text[1:].partition(" ")
                return Request(
                    kind=InputKind.COMMAND, command=head.lower(), text=rest.strip(), **base
                )
            if looks_like_code(text) and not await asyncio.to_thread(
                is_linked, self.engine, CHANNEL, base["user_id"]
            ):
                return Request(kind=InputKind.COMMAND, command="start", text=text, **base)
            return Request(kind=InputKind.TEXT, text=text, **base)
        if name == "message.image.received":
            url = str(message.get("photo") or message.get("photo_url") or "")
            file = await self.fetch_image(url, message_id)
            if file is None:
                await self._say(chat_id, [Outgoing(render("zalo/image_failed.j2"))])
                return None
            return Request(kind=InputKind.FILE, file=file, **base)
        if name == "message.sticker.received":
            return Request(kind=InputKind.STICKER, **base)
        if name == "message.voice.received":
            return Request(kind=InputKind.VOICE, **base)
        return None

    async def fetch_image(self, url: str, message_id: str) -> IncomingFile | None:
        if not url.startswith(("http://", "https://")):
            return None
        content = await self.channel.client.download(url, self.max_file_bytes)
        if content is None:
            return None
        name = f"anh-zalo-{(message_id or 'x')[:12]}.jpg"
        return IncomingFile(name, "image/jpeg", len(content), content)

    # -- sending and bookkeeping
    async def _say(
        self, chat_id: str, messages: list[Outgoing], put_off: PutOff | None = None
    ) -> None:
        await send_replies(self.channel, chat_id, messages, put_off)

    async def _typing(self, chat_id: str) -> None:
        try:
            await self.channel.client.send_chat_action(chat_id, "typing")
        except DeliveryError as exc:
            log.debug("zalo chat action failed error=%s", type(exc).__name__)

    def _replayed(self, key: str) -> bool:
        now = time.monotonic()
        while self._seen and next(iter(self._seen.values())) < now - SEEN_FOR:
            self._seen.popitem(last=False)
        if key in self._seen:
            return True
        self._seen[key] = now
        return False
