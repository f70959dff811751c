"""The evidence upload page behind an upload link (`/u/<token>`, made by bot.web.links).

The link belongs to one open report flow (contact, task, flow instance) and works only while
that flow waits at its evidence step. Files stream through bot.web.multipart (limits enforced
as they arrive); each passes the chat's own checks (core.conversation.check_file: type, size,
name) and is handed to the dispatcher as if sent in chat, so it lands where chat evidence lands
(the flow's pending uploads) and the flow goes on: the chat hears "đã nhận N tệp" with the
pending question's buttons, through the outbox.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.web.auth import anonymous_csrf_ok, client_of, refused_link, too_many, with_form_cookie
from bot.web.links import throttled_client
from bot.web.multipart import BadForm, FormTooLarge, read_multipart
from bot.web.pages import page
from core.commands import InputKind
from core.commands import Request as ChatRequest
from core.conversation import IncomingFile, Invalid, check_file
from core.files import UploadTarget
from core.flows.round_document import FLOW as DOCUMENT_FLOW
from core.flows.round_document import document_limits
from core.outgoing import Outgoing
from core.text import nfc
from messages.render import render
from storage.chat.state import ChatKey, audit, load_flow
from storage.db import transaction
from storage.outbox import OutboxItem, enqueue_many
from storage.web.tokens import UPLOAD, check_link

log = logging.getLogger("parbot.web.uploads")
MAX_UPLOAD_FILES = 10  # as in the chat flow


async def upload_page(request: Request) -> Response:
    web = request.app.state.web
    if await run_in_threadpool(throttled_client, web, client_of(request)):
        return too_many(request)
    found = await run_in_threadpool(_upload_target, web, request.path_params["token"])
    if isinstance(found, str):
        return await run_in_threadpool(refused_link, request, UPLOAD, found)
    return with_form_cookie(request, "web/upload.j2", **_upload_context(web, found))


def _upload_context(web: Any, found: dict[str, Any]) -> dict[str, Any]:
    limits = web.limits
    document = found.get("document", False)  # a round's document: one file of its types
    if document:
        limits = document_limits(limits)
    return {
        "task": found["task"],
        "document": document,
        "types": list(limits.file_types),
        "max_mb": limits.max_file_bytes / (1024 * 1024),
        "max_files": 1 if document else MAX_UPLOAD_FILES,
        "errors": [],
        "received": [],
    }


def _upload_target(web: Any, token: str) -> dict[str, Any] | str:
    """The link's target when its flow is still open at the evidence step, else why not."""
    with transaction(web.engine) as session:
        now = web.clock.now()
        check = check_link(session, token, UPLOAD, now)
        if not check.ok:
            return check.reason
        target = UploadTarget(**check.payload)
        loaded = load_flow(session, ChatKey(target.channel, target.chat_id, target.user_id))
        if loaded is None:
            return "flow_over"
        _, state = loaded
        if state.instance != target.flow_instance:
            return "flow_over"
        if state.step != "files":
            return "flow_step"
        data = state.data
        task = {"ref": data.get("ref") or "", "title": data.get("title") or ""}
        return {
            "target": target,
            "task": task,
            "contact_id": check.link.contact_id,  # type: ignore[union-attr]
            "document": state.flow == DOCUMENT_FLOW,
        }


async def upload(request: Request) -> Response:
    """POST /u/<token>: stream the form, check each file like chat does, continue the flow."""
    web = request.app.state.web
    token = request.path_params["token"]
    if await run_in_threadpool(throttled_client, web, client_of(request)):
        return too_many(request)
    found = await run_in_threadpool(_upload_target, web, token)
    if isinstance(found, str):
        return await run_in_threadpool(refused_link, request, UPLOAD, found)
    context = _upload_context(web, found)
    limits = web.limits
    declared = request.headers.get("content-length")
    whole_cap = MAX_UPLOAD_FILES * limits.max_file_bytes + 64 * 1024
    if declared is not None and declared.isdigit() and int(declared) > whole_cap:
        context["errors"] = [render("web/upload_too_large.j2", max_mb=context["max_mb"])]
        return page(request, "web/upload.j2", status=413, form_csrf="", **context)
    try:
        form = await read_multipart(
            request.headers.get("content-type", ""),
            request.stream(),
            max_file_bytes=limits.max_file_bytes,
            max_files=MAX_UPLOAD_FILES,
        )
    except FormTooLarge as exc:
        context["errors"] = [render("web/upload_too_large.j2", max_mb=context["max_mb"])]
        log.info("upload refused reason=%s", exc.what)
        return page(request, "web/upload.j2", status=413, form_csrf="", **context)
    except BadForm:
        return page(request, "web/upload.j2", status=400, form_csrf="", **context)
    if not anonymous_csrf_ok(request, form.fields.get("csrf", "")):
        return page(request, "web/csrf.j2", status=403)
    files = [f for f in form.files if f.file_name or f.content]
    if found["document"]:
        limits = document_limits(limits)
    errors: list[str] = []
    accepted: list[IncomingFile] = []
    for sent in files:
        incoming = IncomingFile(nfc(Path(sent.file_name).name)[:255] or "tep", sent.mime_type,
                                len(sent.content), bytes(sent.content))
        try:
            check_file(incoming, limits)
        except Invalid as exc:
            errors.append(render(exc.reason.template, **exc.reason.context))
            continue
        accepted.append(incoming)
    if found["document"]:
        accepted = accepted[:1]  # the round asks for one document
    if not files:
        errors.append(render("web/upload_none.j2"))
    received = await run_in_threadpool(_continue_flow, web, found, accepted) if accepted else []
    context.update(errors=errors, received=received)
    status = 200 if received or not errors else 422
    return with_form_cookie(request, "web/upload.j2", status=status, **context)


def _continue_flow(web: Any, found: dict[str, Any], files: list[IncomingFile]) -> list[str]:
    """Each file goes to the flow as if sent in chat; the chat hears the tally and the question.

    The dispatcher's replies are queued in the outbox (the web has no chat connection of its
    own): one "đã nhận N tệp qua trang web" and the flow's pending question.
    """
    target: UploadTarget = found["target"]
    dispatcher = web.dispatcher
    received: list[str] = []
    last: list[Outgoing] = []
    for file in files:
        response = dispatcher.handle(
            ChatRequest(target.channel, target.chat_id, target.user_id, InputKind.FILE, file=file)
        )
        if any(m.text.startswith("📎") for m in response.messages):  # the flow kept it
            received.append(file.file_name)
        last = response.messages
    now = web.clock.now()
    # The flow's own answer to the last file carries the pending question's buttons (Xong…):
    # it becomes one message, the tally of this upload, with those buttons.
    buttons = next((m.buttons for m in reversed(last) if m.buttons), [])
    text = render("web/chat_upload_received.j2", names=received, count=len(received))
    messages = [Outgoing(text, buttons=buttons)] if received else last
    if found["document"]:  # the document flow's own answer: "received", then its next question
        messages = last
    stamp = now.isoformat()
    items = [
        OutboxItem(f"web-upload:{target.flow_instance}:{stamp}:{i}", target.channel,
                   target.chat_id, message, target.contact_id)
        for i, message in enumerate(messages)
    ]
    with transaction(web.engine) as session:
        enqueue_many(session, items, now)
        audit(session, f"{target.channel}:{target.user_id}", "web.upload",
              f"task:{target.task_id}", "ok", target.contact_id, now, files=received)
    return received


ROUTES = [
    Route("/u/{token}", upload_page, methods=["GET"], name="upload_page"),
    Route("/u/{token}", upload, methods=["POST"], name="upload"),
]
