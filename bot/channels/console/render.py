"""Outgoing → terminal text: buttons become numbered lines (type the number to press)."""

from __future__ import annotations

from core.outgoing import Outgoing
from messages.channel_text import numbered_text
from messages.render import render


def as_text(message: Outgoing) -> str:
    lines = [f"parbot ▸ {numbered_text(message)}"]
    attachment = message.document or message.photo
    if attachment is not None:  # only when files are carried: the console says they are not
        where = attachment.path or (
            f"evidence #{attachment.evidence_id}" if attachment.evidence_id else ""
        )
        lines.append(render("chat/console_file.j2", file_name=attachment.file_name, where=where))
    return "\n".join(lines)
