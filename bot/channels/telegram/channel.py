"""The Telegram `Channel` (core/channel.py) for proactive delivery from the outbox.

The delivery worker only sees core's typed errors; this is the one place that knows which
python-telegram-bot exception means what, so retry policy stays out of the adapter.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from telegram import Bot, Message
from telegram import error as tg

from bot.channels.telegram.render import MAX_CAPTION, chunks, fit, keyboard
from core.channel import (
    TELEGRAM_CAPABILITIES,
    Blocked,
    ChannelLimits,
    ChatMigrated,
    ChatNotFound,
    DeliveryError,
    PermanentError,
    RetryAfter,
    Sent,
    TransientError,
)
from core.outgoing import Document, Outgoing

EvidenceLoader = Callable[[int], tuple[str, bytes]]  # evidence_id -> (file name, bytes)


class TelegramChannel:
    """Sends and edits through a PTB `Bot`; raises only core.channel errors."""

    name = "telegram"
    capabilities = TELEGRAM_CAPABILITIES

    def __init__(self, bot: Bot, load_evidence: EvidenceLoader | None = None) -> None:
        self.bot = bot
        self.limits = ChannelLimits()
        self._load_evidence = load_evidence

    async def send(self, chat_id: str, message: Outgoing) -> Sent:
        try:
            sent = await self._send(chat_id, message)
        except tg.TelegramError as exc:
            raise map_error(exc) from exc
        return Sent(str(sent.message_id))

    async def edit(self, chat_id: str, message_id: str, message: Outgoing) -> None:
        try:
            await self.bot.edit_message_text(
                chat_id=chat_id,
                message_id=int(message_id),
                text=fit(message.text),
                reply_markup=keyboard(message),
            )
        except tg.BadRequest as exc:
            if "not modified" in str(exc).lower():
                return  # the same text again: nothing to change, not a failure
            raise map_error(exc) from exc
        except tg.TelegramError as exc:
            raise map_error(exc) from exc

    async def _send(self, chat_id: str, message: Outgoing) -> Message:
        attachment = message.document or message.photo
        if attachment is None:
            parts = chunks(message.text)
            for part in parts[:-1]:
                await self.bot.send_message(chat_id=chat_id, text=part)
            return await self.bot.send_message(
                chat_id=chat_id, text=parts[-1], reply_markup=keyboard(message)
            )
        name, content = self._file(attachment)
        caption = message.text if len(message.text) <= MAX_CAPTION else None
        if caption is None and message.text:
            for part in chunks(message.text):
                await self.bot.send_message(chat_id=chat_id, text=part)
        if message.photo is not None:
            return await self.bot.send_photo(
                chat_id=chat_id,
                photo=content,
                caption=caption or None,
                reply_markup=keyboard(message),
            )
        return await self.bot.send_document(
            chat_id=chat_id,
            document=content,
            filename=name,
            caption=caption or None,
            reply_markup=keyboard(message),
        )

    def _file(self, document: Document) -> tuple[str, bytes]:
        if document.path:
            path = Path(document.path)
            try:
                return document.file_name or path.name, path.read_bytes()
            except OSError as exc:
                raise PermanentError(f"cannot read {path.name}: {exc.strerror}") from exc
        if document.evidence_id is not None and self._load_evidence is not None:
            return self._load_evidence(document.evidence_id)
        raise PermanentError("document has neither a path nor a loadable evidence id")


def retry_seconds(exc: tg.RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns about the int/timedelta switch
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def map_error(exc: tg.TelegramError) -> DeliveryError:
    """PTB exception → the core delivery error that says what the worker should do."""
    text = str(exc)
    if isinstance(exc, tg.RetryAfter):
        return RetryAfter(retry_seconds(exc))
    if isinstance(exc, tg.ChatMigrated):
        return ChatMigrated(str(exc.new_chat_id))
    if isinstance(exc, tg.Forbidden):
        return Blocked(text)
    if isinstance(exc, tg.BadRequest):  # TimedOut is a NetworkError, BadRequest is one too
        if "chat not found" in text.lower():
            return ChatNotFound(text)
        return PermanentError(text)
    if isinstance(exc, tg.NetworkError):  # TimedOut, connection errors, 5xx
        return TransientError(text)
    return PermanentError(text)
