"""The signed upload link a file step offers on channels that never deliver files.

Shared by the report flow's evidence step and a round document's file step: Zalo's Bot
Platform cannot carry a PDF or a Word file in chat, so the step itself gives a page for this
very flow (`core.files.FileLinks`), valid while the flow waits at its "files" step.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.commands import ChatContext
from core.files import UploadTarget

UPLOAD_TTL = timedelta(hours=24)  # an evidence upload link; it also dies with its flow


def upload_link(ctx: ChatContext, data: dict[str, Any], task_id: int | None = None) -> str | None:
    """Where files go when the channel never delivers them (Zalo's Bot Platform): a signed
    page for this very report, from the `FileLinks` port; None where files arrive in chat, or
    when no web server is configured (the prompt then says what to do instead). A round's
    document flow passes `task_id=0`: no task, the same upload path (`bot.web.uploads`)."""
    if ctx.capabilities.inbound_files or ctx.actor is None:
        return None
    request = ctx.request
    target = UploadTarget(
        ctx.actor.contact_id,
        request.channel,
        request.chat_id,
        request.user_id,
        int(data["task_id"]) if task_id is None else task_id,
        data["_instance"],
    )
    return ctx.files.upload(target, UPLOAD_TTL, session=ctx.session)
