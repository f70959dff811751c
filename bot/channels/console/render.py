"""Outgoing → terminal text: buttons become a numbered list (type the number to press)."""

from __future__ import annotations

from core.outgoing import Outgoing
from messages.render import render


def as_text(message: Outgoing, first_number: int = 1, numbered: bool = True) -> str:
    lines = [f"parbot ▸ {message.text}"]
    attachment = message.document or message.photo
    if attachment is not None:
        where = attachment.path or (
            f"evidence #{attachment.evidence_id}" if attachment.evidence_id else ""
        )
        lines.append(render("chat/console_file.j2", file_name=attachment.file_name, where=where))
    labels = [button.text for row in message.buttons for button in row]
    if labels and numbered:
        lines += [f"   {first_number + i}. {label}" for i, label in enumerate(labels)]
    elif labels:
        lines.append(render("chat/console_type_instead.j2", labels=labels))
    return "\n".join(lines)
