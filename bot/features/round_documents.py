"""Rounds that ask for a document: the «Gửi văn bản» flow and the reminder's button for it.

The flow is `core.flows.round_document`; its data comes through
`storage.chat.round_documents.SqlDocumentStore`. It starts from a round reminder's «Gửi văn
bản» (action `round_document`, args round_id and agency_id, checked here like any forged
button) or from /baocao, whose task list offers the documents the agency still owes.
"""

from __future__ import annotations

from core.commands import ChatContext, PressedButton, Registry, per_update
from core.conversation import Invalid
from core.flows.round_document import FLOW, DocumentStore, build_round_document_flow, start_data
from core.model import UserRole
from core.outgoing import Outgoing
from messages.render import render
from storage.chat.round_documents import SqlDocumentStore

ACTION = "round_document"


def documents_of(ctx: ChatContext) -> DocumentStore:
    return per_update(
        ctx, "round_documents", lambda: SqlDocumentStore(ctx.session, ctx.config.timezone)
    )


def send_document(ctx: ChatContext, pressed: PressedButton) -> list[Outgoing]:
    """A round reminder's «Gửi văn bản»: the document flow for that round, if allowed."""
    try:
        round_id, agency_id = int(pressed.args["round_id"]), int(pressed.args["agency_id"])
    except (KeyError, TypeError, ValueError):
        ctx.audit(ACTION, "malformed", "refused", args=pressed.args)
        return [Outgoing(render("chat/refused_button.j2"))]
    target = f"round:{round_id} agency:{agency_id}"
    if ctx.actor is None or ctx.actor.agency_id != agency_id:
        ctx.audit(ACTION, target, "refused", reason="other_agency")
        return [Outgoing(render("rounds/document_refused.j2", reason="other_agency"))]
    try:
        data = start_data(ctx, documents_of(ctx), round_id)
    except Invalid as exc:
        ctx.audit(ACTION, target, "refused", reason=str(exc.reason.context.get("reason", "")))
        return [Outgoing(render(exc.reason.template, **exc.reason.context))]
    return ctx.start_flow(FLOW, data)


def register(registry: Registry) -> None:
    registry.add_flow(build_round_document_flow(documents_of))
    registry.add_button(ACTION, send_document, roles={UserRole.FOCAL})
