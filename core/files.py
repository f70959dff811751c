"""Files on channels that cannot carry them: the `FileLinks` port.

Zalo's Bot Platform carries no documents either way, so a generated report, an evidence file or
an evidence upload travels as a short-lived link instead. Core asks this port for the link;
the web companion implements it over HTTP (signed bearer links); tests use an in-process one.
A port that has no web server behind it answers None, and the message then says the file can
be had from the server operator with `parbot report …` — nothing claims a link that would not
open.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

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

    def upload(
        self, target: UploadTarget, ttl: timedelta | None = None, session: Any = None
    ) -> str | None:
        """A link to a page that accepts evidence files for `target`; None without a server.

        `session`: the caller's open transaction (a chat update's), so the link commits or
        vanishes with the step that offers it — and SQLite's single writer is not asked for
        a second transaction while the update holds the first."""
        ...


class NoFileLinks:
    """The port without a web server behind it: no link, ever (the message says whom to ask)."""

    def download(
        self, contact_id: int, document: Document, ttl: timedelta | None = None
    ) -> str | None:
        return None

    def upload(
        self, target: UploadTarget, ttl: timedelta | None = None, session: Any = None
    ) -> str | None:
        return None


DEFAULT_TTL = timedelta(hours=24)


class InProcessFileLinks:
    """Links held in this process's memory: for tests and the in-process text channel.

    `resolve(link)` answers what a web server would serve for it (the document and the contact
    it was issued to), until the link expires. Not reachable from outside the process: the
    composition root uses it only where the reader is in the same process (tests).
    """

    def __init__(self, base: str = "http://parbot.test/f/") -> None:
        self.base = base
        self.downloads: dict[str, tuple[int, Document, float]] = {}
        self.uploads: dict[str, tuple[UploadTarget, float]] = {}

    def download(
        self, contact_id: int, document: Document, ttl: timedelta | None = None
    ) -> str | None:
        token = secrets.token_urlsafe(12)
        expires = time.monotonic() + (ttl or DEFAULT_TTL).total_seconds()
        self.downloads[token] = (contact_id, document, expires)
        return f"{self.base}{token}"

    def upload(
        self, target: UploadTarget, ttl: timedelta | None = None, session: Any = None
    ) -> str | None:
        token = secrets.token_urlsafe(12)
        self.uploads[token] = (target, time.monotonic() + (ttl or DEFAULT_TTL).total_seconds())
        return f"{self.base}up/{token}"

    def resolve(self, link: str) -> tuple[int, Document] | None:
        """(contact id, document) behind a download link still valid; None otherwise."""
        if not link.startswith(self.base):
            return None
        found = self.downloads.get(link[len(self.base) :])
        if found is None or found[2] < time.monotonic():
            return None
        return found[0], found[1]
