"""An `Outgoing` made fit for a channel that lacks a capability, and numbered choices as text.

Shared by the dispatcher (replies) and the delivery worker (outbox rows), so a message reads
the same whichever path it takes, and by every text adapter (console, Zalo Bot Platform), so
numbered choices look the same on each. The wording is in `messages/templates/channels/`.
"""

from __future__ import annotations

from pathlib import PurePath

from core.channel import Capabilities
from core.files import FileLinks
from core.outgoing import Button, Document, Outgoing
from messages.render import render

# What `parbot report -f …` exports a generated file as; evidence comes in the zip.
_FORMATS = {".xlsx": "xlsx", ".docx": "docx", ".png": "png", ".md": "md", ".json": "json"}


def numbered(buttons: list[list[Button]]) -> list[Button]:
    """The buttons in the order their numbers run: row by row, left to right."""
    return [button for row in buttons for button in row]


def numbered_text(message: Outgoing) -> str:
    """The message's text with its buttons as lines `1. Label` and the rule for typed numbers."""
    labels = [button.text for button in numbered(message.buttons)]
    if not labels:
        return message.text
    lines = render("channels/numbered_choices.j2", labels=labels)
    return f"{message.text}\n\n{lines}" if message.text else lines


def labels_to_type(message: Outgoing) -> Outgoing:
    """A prompt whose step wants a figure: typed numbers answer it, so its buttons cannot be
    numbered; their labels are offered to type instead (the flow engine accepts them)."""
    labels = [button.text for button in numbered(message.buttons)]
    if not labels:
        return message
    line = render("channels/type_label.j2", labels=labels)
    return Outgoing(f"{message.text}\n{line}", [], message.document, message.photo)


def file_line(document: Document, link: str | None) -> str:
    fmt = _FORMATS.get(PurePath(document.file_name).suffix.lower(), "zip")
    return render("channels/file_link.j2", file_name=document.file_name, link=link, fmt=fmt)


def fit_to_channel(
    message: Outgoing,
    capabilities: Capabilities,
    files: FileLinks,
    contact_id: int | None,
) -> Outgoing:
    """Files the channel cannot carry become a link from `files`, or, without a web server,
    the line saying the server operator has them. Nothing claims a link that does not exist."""
    attachment = message.document or message.photo
    if attachment is None:
        return message
    carried = capabilities.documents if message.document is not None else capabilities.image_upload
    if carried:
        return message
    link = files.download(contact_id, attachment) if contact_id is not None else None
    line = file_line(attachment, link)
    text = f"{message.text}\n\n{line}" if message.text else line
    return Outgoing(text, message.buttons)
