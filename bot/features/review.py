"""Review in chat: `/duyet` (the coordinators' queue) and «Báo cáo lại» (a returned report).

Glue only: the queue's rules are `core.review`, the flow `core/flows/review.py`, the kinds of
item and what a decision tells whom `messages/review.py`, the data `storage/review/store.py`.
"""

from __future__ import annotations

from typing import Any

from bot.features.chat import store_of as report_store_of
from core.auth import may_report
from core.commands import STAFF, ChatContext, PressedButton, Registry, per_update
from core.conversation import Invalid
from core.flows.report import FLOW as REPORT
from core.flows.report import load_task
from core.flows.review import FLOW as REVIEW
from core.flows.review import build_review_flow, start_data
from core.model import UserRole
from core.outgoing import Outgoing
from core.review import QueueKinds
from messages.render import render
from messages.review import queue_for
from storage.review import store


def queue_of(ctx: ChatContext) -> QueueKinds:
    """The review queue bound to this update's session (built once per update)."""
    return per_update(
        ctx,
        "review_queue",
        lambda: queue_for(ctx.session, ctx.config.timezone, data_dir=ctx.config.data_dir),
    )


def review(ctx: ChatContext) -> list[Outgoing]:
    data = start_data(queue_of(ctx))
    if data is None:
        return [Outgoing(render("review/queue_empty.j2"))]
    return ctx.start_flow(REVIEW, data, step="decide")


def report_again(ctx: ChatContext, pressed: PressedButton) -> list[Outgoing]:
    """«Báo cáo lại»: the report flow on the returned report's task, its answers (and files)
    filled in from that report — or from the agency's newer one, if it has sent one since —
    at the summary where each can be changed before sending."""
    try:
        report_id = int(pressed.args["report_id"])
    except (KeyError, TypeError, ValueError):
        ctx.audit("report_again", "malformed", "refused", args=pressed.args)
        return [Outgoing(render("chat/refused_button.j2"))]
    report = store.load(ctx.session, report_id)
    if report is not None and not report.is_latest:  # the agency sent a newer one since
        newest = store.latest_id(ctx.session, report.task_id, report.agency_id)
        report = store.load(ctx.session, newest) if newest is not None else report
    if report is None:
        ctx.audit("report_again", f"report:{report_id}", "refused", reason="gone")
        return [Outgoing(render("review/again_refused.j2", reason="gone"))]
    reports = report_store_of(ctx)
    assigned = reports.task(report.agency_id, report.task_id) is not None
    refusal = may_report(ctx.actor, report.agency_id, assigned)
    if refusal is not None:
        ctx.audit("report_again", f"report:{report.receipt}", "refused", reason=refusal.reason)
        return [Outgoing(render("review/again_refused.j2", reason=refusal.reason))]
    data: dict[str, Any] = {}
    try:
        load_task(ctx, data, reports, report.task_id)
    except Invalid as exc:
        return [Outgoing(render(exc.reason.template, **exc.reason.context))]
    data.update(
        task=str(report.task_id),
        status=report.status,
        result=report.result,
        figure=report.figure if data.get("target_kind") else None,
        difficulties=report.difficulties or None,
        files=[
            {"upload_id": f"ev{e.id}", "evidence_id": e.id, "name": e.file_name, "size": e.size}
            for e in report.evidence
        ],
        returned_reason=report.review_reason if report.review == "returned" else "",
    )
    ctx.audit("report_again", f"report:{report.receipt}")
    return ctx.start_flow(REPORT, data, step="summary")


def register(registry: Registry) -> None:
    registry.add_flow(build_review_flow(queue_of))
    registry.add_command(
        "duyet", render("review/command_description.j2", command="duyet"), review, roles=STAFF
    )
    registry.add_button("report_again", report_again, roles={UserRole.FOCAL})
