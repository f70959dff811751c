"""Files on channels that cannot carry them: the `FileLinks` port.

Zalo's Bot Platform carries no documents either way, so a generated report, an evidence file or
an evidence upload travels as a short-lived link instead. Core asks this port for the link;
the web companion implements it over HTTP (signed bearer links); tests use an in-process one.
A port that has no web server behind it answers None, and the message then says the file can
be had from the server operator with `parbot report …` — nothing claims a link that would not
open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from core.outgoing import Document


@dataclass(frozen=True)
class UploadTarget:
    """Where an uploaded evidence file belongs: the open report flow of one contact."""

    contact_id: int
    channel: str
    chat_id: str
    user_id: str
    task_id: int
    flow_instance: str  # the flow's instance id: a link dies with the flow it was made for


class FileLinks(Protocol):
    def download(
        self, contact_id: int, document: Document, ttl: timedelta | None = None
    ) -> str | None:
        """A link that serves `document` to whoever holds it, issued for (and audited with)
        `contact_id`; None when no web server is configured."""
        ...

    def upload(self, target: UploadTarget, ttl: timedelta | None = None) -> str | None:
        """A link to a page that accepts evidence files for `target`; None without a server."""
        ...
