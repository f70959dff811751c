"""Bearer links: the `core.files.FileLinks` port over HTTP, and the routes that honour them.

A download link (`/f/<token>`, 24 h by default) serves a generated report or an evidence file
to whoever holds it — a phone opening it has no session, and Zalo's servers fetch images
themselves — so the token *is* the permission: issued for one contact, audited with that
contact at every use, dead when revoked, expired or the contact unlinked. Generated files are
copied into the database when the link is made, so any worker can serve them.

An upload link (`/u/<token>`) belongs to one open report flow; its page is bot.web.uploads.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.web.auth import (
    client_of,
    refused_link,
    too_many,
)
from core.files import UploadTarget
from core.outgoing import Document
from storage.chat.state import audit
from storage.db import transaction
from storage.tables.shared import EvidenceFile
from storage.tables.web import WebFile
from storage.web.tokens import DOWNLOAD, SIGNIN, SIGNIN_TTL, UPLOAD, check_link, issue_link

log = logging.getLogger("parbot.web.links")


def signin_url(session: Any, web_url: str, contact_id: int, now: Any) -> str:
    """A single-use sign-in link (10 minutes) for `contact_id`, written in `session`."""
    token = issue_link(session, SIGNIN, contact_id, SIGNIN_TTL, now)
    return f"{web_url.rstrip('/')}/l/{token}"


def upload_url(session: Any, web_url: str, target: UploadTarget, ttl: timedelta, now: Any) -> str:
    token = issue_link(session, UPLOAD, target.contact_id, ttl, now, asdict(target))
    return f"{web_url.rstrip('/')}/u/{token}"


class WebFileLinks:
    """`core.files.FileLinks` backed by the web companion (each call its own transaction)."""

    def __init__(self, web: Any) -> None:
        self.web = web

    def download(
        self, contact_id: int, document: Document, ttl: timedelta | None = None
    ) -> str | None:
        web = self.web
        with transaction(web.engine) as session:
            now = web.clock.now()
            if document.evidence_id is not None:
                payload: dict[str, Any] = {"evidence_id": document.evidence_id}
            elif document.path is not None:
                content = Path(document.path).read_bytes()
                kept = WebFile(
                    file_name=document.file_name[:255],
                    mime_type=document.mime_type[:100],
                    size=len(content),
                    content=content,
                    created_at=now,
                )
                session.add(kept)
                session.flush()
                payload = {"file_id": kept.id}
            else:
                return None
            token = issue_link(session, DOWNLOAD, contact_id, ttl or web.link_ttl, now, payload)
            audit(session, f"contact:{contact_id}", "web.link_issued", document.file_name, "ok",
                  contact_id, now, kind=DOWNLOAD)
        return web.url(f"/f/{token}")

    def upload(
        self, target: UploadTarget, ttl: timedelta | None = None, session: Any = None
    ) -> str | None:
        if session is not None:  # inside a chat update: the link commits with it
            return self._upload(session, target, ttl)
        with transaction(self.web.engine) as own:
            return self._upload(own, target, ttl)

    def _upload(self, session: Any, target: UploadTarget, ttl: timedelta | None) -> str:
        web = self.web
        now = web.clock.now()
        url = upload_url(session, web.public_url, target, ttl or web.link_ttl, now)
        audit(
            session,
            f"{target.channel}:{target.user_id}",
            "web.link_issued",
            f"task:{target.task_id}",
            "ok",
            target.contact_id,
            now,
            kind=UPLOAD,
        )
        return url


# -- download
async def download(request: Request) -> Response:
    web = request.app.state.web
    if await run_in_threadpool(throttled_client, web, client_of(request)):
        return too_many(request)
    found = await run_in_threadpool(_load_download, web, request.path_params["token"],
                                    client_of(request))
    if isinstance(found, str):
        return await run_in_threadpool(refused_link, request, DOWNLOAD, found)
    name, mime, content = found
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(
        content,
        media_type=mime or "application/octet-stream",
        headers={"content-disposition": disposition, "cache-control": "no-store"},
    )


def throttled_client(web: Any, client: str) -> bool:
    from storage.web.tokens import throttled

    with transaction(web.engine) as session:
        return throttled(session, client, web.clock.now())


def _load_download(web: Any, token: str, client: str) -> tuple[str, str, bytes] | str:
    with transaction(web.engine) as session:
        now = web.clock.now()
        check = check_link(session, token, DOWNLOAD, now)
        if not check.ok:
            return check.reason
        assert check.link is not None
        payload = check.payload
        if "evidence_id" in payload:
            row: Any = session.get(EvidenceFile, payload["evidence_id"])
        else:
            row = session.get(WebFile, payload.get("file_id"))
        if row is None:
            return "unknown"
        audit(session, f"contact:{check.link.contact_id}", "web.download", row.file_name, "ok",
              check.link.contact_id, now, client=client)
        return row.file_name, row.mime_type, bytes(row.content)


ROUTES = [Route("/f/{token}", download, methods=["GET"], name="download")]
