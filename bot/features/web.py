"""/web: a single-use sign-in link to the web companion (and, mid-report, an upload link).

The link is bound to the contact who asked, valid 10 minutes, spent on first use (see
bot.web.auth). When the user is at the evidence step of a report, a second link opens a page
that takes the files for that very report (bot.web.links), for phones and channels that carry
no documents. Without a web server (PARBOT_WEB_LISTEN unset) the answer says so.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from bot.web.links import signin_url, upload_url
from core.commands import ChatContext, Registry
from core.files import UploadTarget
from core.flows.round_document import FLOW as DOCUMENT_FLOW
from core.outgoing import Outgoing
from messages.render import render
from storage.chat.state import ChatKey, load_flow
from storage.db import transaction
from storage.web.tokens import prune

UPLOAD_TTL = timedelta(hours=24)
PRUNE_EVERY = timedelta(hours=6)
log = logging.getLogger("parbot.web")


def web_link(ctx: ChatContext) -> Outgoing:
    base = ctx.config.web_url
    actor = ctx.actor
    assert actor is not None  # linked users only (registry roles)
    if not base:
        return Outgoing(render("web/chat_off.j2"))
    url = signin_url(ctx.session, base, actor.contact_id, ctx.now)
    upload = None
    request = ctx.request
    loaded = load_flow(ctx.session, ChatKey(request.channel, request.chat_id, request.user_id))
    if loaded is not None:
        _, state = loaded
        task_id = state.data.get("task_id")
        if state.flow == DOCUMENT_FLOW:  # a round's document: no task (0), same upload path
            task_id = 0
        at_files = state.flow in ("report", DOCUMENT_FLOW) and state.step == "files"
        if at_files and task_id is not None:
            target = UploadTarget(
                actor.contact_id, request.channel, request.chat_id, request.user_id,
                int(task_id), state.instance,
            )
            upload = upload_url(ctx.session, base, target, UPLOAD_TTL, ctx.now)
    ctx.audit("web.link_issued", "signin", "ok", upload=upload is not None)
    document = loaded is not None and loaded[1].flow == DOCUMENT_FLOW
    return Outgoing(render("web/chat_link.j2", url=url, upload_url=upload, document=document))


def register(registry: Registry) -> None:
    registry.add_command("web", render("web/command_description.j2"), web_link)


async def run(runtime: Any) -> None:
    """Forget links and sessions dead for a week, every few hours (audit rows stay)."""
    while True:
        try:
            await asyncio.to_thread(_prune, runtime)
        except Exception:
            log.exception("web link prune failed")
        await asyncio.sleep(PRUNE_EVERY.total_seconds())


def _prune(runtime: Any) -> None:
    with transaction(runtime.engine) as session:
        prune(session, runtime.clock.now())
