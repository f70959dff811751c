"""The Zalo Bot Platform `Channel` (`zalo`): text only, numbered choices, files as links.

What the platform cannot carry is rendered here, once: buttons become `1. Label` lines (the
seam helper maps a typed number back), a document becomes a link from the `FileLinks` port
(or a note that the operator has it), an image goes by public URL. Long texts are split at
2,000 code points; pacing (`limits.per_second`) is the delivery worker's, set from
ZALO_SEND_RATE.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.channels.zalo_bot.client import InvalidToken, ZaloBotClient
from bot.channels.zalo_bot.render import numbered, split
from core.channel import TEXT_CAPABILITIES, ChannelLimits, Sent
from core.files import FileLinks
from core.outgoing import Document, Outgoing
from messages.render import render

QuotaCounter = Callable[[int], None]  # messages sent → counted against the monthly quota


class ZaloBotChannel:
    name = "zalo"
    capabilities = TEXT_CAPABILITIES

    def __init__(
        self,
        client: ZaloBotClient,
        links: FileLinks | None = None,
        *,
        rate: float = 5.0,
        contact_of: Callable[[str], int | None] | None = None,
        count: QuotaCounter | None = None,
        on_token_refused: Callable[[], None] | None = None,
    ) -> None:
        self._on_token_refused = on_token_refused
        self.client = client
        self.links = links
        self.limits = ChannelLimits(per_second=rate, per_chat_per_second=1.0, max_text=2000)
        self._contact_of = contact_of or (lambda chat_id: None)
        self._count = count

    def is_group(self, chat_id: str) -> bool:
        return False  # Zalo delivers one user's chat at a time

    def invite_link(self, code: str) -> str | None:
        return None  # the user writes first: the code is sent to the bot as text

    async def send(self, chat_id: str, message: Outgoing) -> Sent:
        try:
            return await self._send(chat_id, message)
        except InvalidToken:
            if self._on_token_refused is not None:  # admins hear of it (once a day, by key)
                await asyncio.to_thread(self._on_token_refused)
            raise

    async def _send(self, chat_id: str, message: Outgoing) -> Sent:
        text = numbered(message)
        photo_url: str | None = None
        if message.photo is not None:
            photo_url = self._link(chat_id, message.photo)
            if photo_url is None:
                text = _join(
                    text, render("zalo/file_from_operator.j2", file_name=message.photo.file_name)
                )
        if message.document is not None:
            text = _join(text, self._document_text(chat_id, message.document))
        last: dict[str, object] = {}
        if photo_url is not None:
            caption = text if len(text) <= 2000 else ""
            last = await self.client.send_photo(chat_id, photo_url, caption)
            await self._counted()
            if caption:
                return Sent(str(last.get("message_id", "")))
        for part in split(text):
            last = await self.client.send_message(chat_id, part)
            await self._counted()
        return Sent(str(last.get("message_id", "")))

    async def _counted(self) -> None:
        if self._count is not None:  # a database write: off the event loop
            await asyncio.to_thread(self._count, 1)

    async def edit(self, chat_id: str, message_id: str, message: Outgoing) -> None:
        """No edits on Zalo: the new text goes as a new message (capabilities.edits is False)."""
        await self.send(chat_id, message)

    def _link(self, chat_id: str, document: Document) -> str | None:
        contact = self._contact_of(chat_id)
        if self.links is None or contact is None:
            return None
        return self.links.download(contact, document)

    def _document_text(self, chat_id: str, document: Document) -> str:
        link = self._link(chat_id, document)
        if link is None:
            return render("zalo/file_from_operator.j2", file_name=document.file_name)
        return render("zalo/file_link.j2", file_name=document.file_name, link=link)


def _join(text: str, more: str) -> str:
    return f"{text}\n\n{more.strip()}" if text.strip() else more.strip()
