"""The Zalo OA `Channel` (`zalo_oa`): tap-to-send buttons, native PDF/DOC/DOCX, the window.

Buttons become `oa.query.hide` buttons whose payload is `PAYLOAD_PREFIX` + the button's
server-side data; the tap comes back as a `user_send_text` the adapter turns into a button
press (and the dispatcher redeems, or refuses and audits, like any callback). PDF/DOC/DOCX up
to 5 MB are uploaded and sent as files, jpg/png images up to 1 MB as images; anything else
travels as a link. A message to a user silent longer than the window is not sent blindly:
with a ZNS template id and the contact's phone it goes as a ZNS message, otherwise
`OutsideWindow` tells the delivery worker the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.channels.zalo_bot.render import split
from bot.channels.zalo_oa.client import OutsideWindow, ZaloOAClient
from core.channel import ButtonStyle, Capabilities, ChannelLimits, LengthUnit, PermanentError, Sent
from core.files import FileLinks
from core.outgoing import Document, Notice, Outgoing
from messages.render import render
from storage.tables.zalo import ZaloContactWindow
from storage.zalo.window import (
    NO_PHONE,
    NO_TEMPLATE,
    NOT_A_REMINDER,
    inside,
    outside_reason,
)

PAYLOAD_PREFIX = "#pb:"
NATIVE = {"pdf", "doc", "docx"}
MAX_FILE = 5 * 1024 * 1024
MAX_IMAGE = 1024 * 1024
MAX_BUTTONS = 5  # unconfirmed maximum (zalo.md §2 [U]); more choices are listed as numbers

OA_CAPABILITIES = Capabilities(
    buttons=ButtonStyle.TAP_TEXT,
    edits=False,
    documents=True,  # PDF/DOC/DOCX ≤ 5 MB natively; the channel links the rest
    inbound_files=True,  # user_send_file / user_send_image reach the webhook: no upload link
    image_upload=True,
    popups=False,
    max_text=2000,
    length_unit=LengthUnit.CODE_POINTS,
    html=False,
)

EvidenceLoader = Callable[[int], tuple[str, bytes]]
WindowOf = Callable[[str], ZaloContactWindow | None]


class ZaloOAChannel:
    name = "zalo_oa"
    capabilities = OA_CAPABILITIES

    def __init__(
        self,
        client: ZaloOAClient,
        *,
        now: Callable[[], datetime],
        window_of: WindowOf,
        window_hours: float = 48,
        links: FileLinks | None = None,
        contact_of: Callable[[str], int | None] | None = None,
        load_evidence: EvidenceLoader | None = None,
        zns_template: str | None = None,
        web_url: str | None = None,
        rate: float = 5.0,
    ) -> None:
        self.client = client
        self.limits = ChannelLimits(per_second=rate, per_chat_per_second=1.0, max_text=2000)
        self.now, self.window_of, self.window_hours = now, window_of, window_hours
        self.links, self.zns_template, self.web_url = links, zns_template, web_url
        self._contact_of = contact_of or (lambda chat_id: None)
        self._load_evidence = load_evidence

    def is_group(self, chat_id: str) -> bool:
        return False  # Zalo delivers one user's chat at a time

    def invite_link(self, code: str) -> str | None:
        return None  # the user writes first: the code is sent to the bot as text

    async def send(self, chat_id: str, message: Outgoing) -> Sent:
        window = await asyncio.to_thread(self.window_of, chat_id)
        if not inside(window, self.now(), self.window_hours):
            return await self._outside(chat_id, message, window)
        last = ""
        text = message.text
        if message.document is not None:
            sent, text = await self._attachment(chat_id, message.document, text, file=True)
            last = sent or last
        if message.photo is not None:
            sent, text = await self._attachment(chat_id, message.photo, text, file=False)
            last = sent or last
        parts = split(text) if text.strip() else []
        for index, part in enumerate(parts):
            body: dict[str, Any] = {"text": part}
            if index == len(parts) - 1 and message.buttons:
                body = self._with_buttons(part, message)
            last = await self.client.send(chat_id, body)
        return Sent(last)

    async def edit(self, chat_id: str, message_id: str, message: Outgoing) -> None:
        """No edits on Zalo OA: the new text goes as a new message."""
        await self.send(chat_id, message)

    def _with_buttons(self, text: str, message: Outgoing) -> dict[str, Any]:
        flat = [b for row in message.buttons for b in row]
        shown = flat[:MAX_BUTTONS]
        extra = flat[MAX_BUTTONS:]
        if extra:
            text += "\n" + "\n".join(f"{n}. {b.text}" for n, b in enumerate(flat, 1))
        buttons = [
            {"title": b.text[:100], "type": "oa.query.hide", "payload": PAYLOAD_PREFIX + b.data}
            for b in shown
        ]
        payload = {"buttons": buttons}
        return {"text": text, "attachment": {"type": "template", "payload": payload}}

    async def _attachment(
        self, chat_id: str, document: Document, text: str, file: bool
    ) -> tuple[str, str]:
        """Send a file natively when Zalo takes it; otherwise add a link to `text`."""
        extension = Path(document.file_name).suffix.lower().lstrip(".")
        name, content = self._bytes(document)
        if file and extension in NATIVE and len(content) <= MAX_FILE:
            token = await self.client.upload_file(name, content)
            sent = await self.client.send(
                chat_id, {"attachment": {"type": "file", "payload": {"token": token}}}
            )
            return sent, text
        if not file and extension in {"jpg", "jpeg", "png"} and len(content) <= MAX_IMAGE:
            attachment_id = await self.client.upload_image(name, content)
            element = {"media_type": "image", "attachment_id": attachment_id}
            payload = {"template_type": "media", "elements": [element]}
            sent = await self.client.send(
                chat_id,
                {"text": text[:2000], "attachment": {"type": "template", "payload": payload}},
            )
            return sent, ""
        contact = self._contact_of(chat_id)
        link = self.links.download(contact, document) if self.links and contact else None
        if link is None:
            note = render("zalo/file_from_operator.j2", file_name=document.file_name)
        else:
            note = render("zalo/file_link.j2", file_name=document.file_name, link=link)
        return "", f"{text}\n\n{note.strip()}" if text.strip() else note.strip()

    def _bytes(self, document: Document) -> tuple[str, bytes]:
        if document.path:
            try:
                return document.file_name, Path(document.path).read_bytes()
            except OSError as exc:
                raise PermanentError(f"cannot read {Path(document.path).name}") from exc
        if document.evidence_id is not None and self._load_evidence is not None:
            return self._load_evidence(document.evidence_id)
        return document.file_name, b""

    async def _outside(
        self, chat_id: str, message: Outgoing, window: ZaloContactWindow | None
    ) -> Sent:
        """Outside the window nothing goes blindly: a reminder goes as ZNS when an admin has
        configured a template and the contact's phone; anything else fails, marked with why
        (the coordinator's digest lists who could not be reached)."""
        phone = window.phone if window is not None else None
        causes = [
            cause
            for cause, missing in (
                (NOT_A_REMINDER, message.notice is None),
                (NO_TEMPLATE, not self.zns_template),
                (NO_PHONE, not phone),
            )
            if missing
        ]
        if message.notice is None or not self.zns_template or not phone:
            detail = f"no message from the user within {self.window_hours:g} h"
            raise OutsideWindow(outside_reason(detail, *causes))
        fields = zns_fields(message.notice, self.web_url or "")
        tracking = f"parbot-{chat_id}-{int(self.now().timestamp())}"
        return Sent(await self.client.send_zns(phone, self.zns_template, fields, tracking))


# ZNS template parameters (what an admin creates in the template, README «Zalo»): each is cut
# to the length its parameter type accepts in Zalo's template editor — a code/ID parameter
# 30 characters, a table cell 90, a date dd/mm/yyyy, a URL for the button 200 (Zalo Cloud's
# guide to ZNS parameter formats; zalo.md §2 lists ZNS itself).
ZNS_LIMITS = {"ma_nhiem_vu": 30, "ten_nhiem_vu": 90, "han_bao_cao": 10, "lien_ket": 200}


def zns_fields(notice: Notice, link: str) -> dict[str, str]:
    """The reminder as ZNS `template_data`: task reference and title, deadline, link."""
    deadline = ""
    if notice.deadline:
        deadline = date.fromisoformat(notice.deadline).strftime("%d/%m/%Y")
    values = {
        "ma_nhiem_vu": notice.ref,
        "ten_nhiem_vu": notice.title,
        "han_bao_cao": deadline,
        "lien_ket": link,
    }
    return {
        name: shorten(" ".join(value.split()), ZNS_LIMITS[name]) for name, value in values.items()
    }


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut at a word with "…" when it must be cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-·") + "…"
