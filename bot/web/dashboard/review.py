"""Đạt / Trả lại on the agency page (*Cơ quan*): the same decision as `/duyet` in chat; and
Chấp thuận / Từ chối for the agency's extension requests, the same as in chat too.

A POST needs the session's CSRF token; the decision goes through `core.review.decide` (only
coordinators and admins; only a report still chờ duyệt; a return needs its reason) with the
kinds of `messages.review`, so the focal point is told through the outbox and the dashboard's
stored evaluation follows, in the same transaction as the decision and its audit row.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.auth import csrf_ok, small_form, viewer_of
from bot.web.pages import audit_web, forbidden, page
from core.extensions import ExtensionRequestInfo
from core.review import DecisionRefused, decide
from core.text import clean
from messages.extensions import EXTENSION
from messages.review import REPORT, queue_for
from storage.chat.state import audit
from storage.db import transaction
from storage.extensions import SqlExtensionStore
from storage.review.store import load
from storage.tables.shared import Agency


async def review(request: Request) -> Response:
    code = request.path_params["code"]
    viewer = viewer_of(request)
    if viewer is None:
        return page(request, "web/signed_out.j2", status=401)
    form = await small_form(request)
    target = f"agency:{code[:40]}"
    if not csrf_ok(request, form):
        return forbidden(request, target, reason="csrf")
    action = form.get("action", "")
    reason = clean(form.get("ly_do", ""))[:2000]
    try:
        report_id = int(form.get("report_id", ""))
    except ValueError:
        return page(request, "web/not_found.j2", status=404)
    web = request.app.state.web
    now = web.clock.now()
    with transaction(web.engine) as session:
        report = load(session, report_id)
        if report is None or report.agency_code != code or action not in ("accept", "return"):
            return page(request, "web/not_found.j2", status=404)
        target = f"report:{report.receipt}"
        try:
            decided = decide(
                queue_for(session, web.tz), viewer, REPORT, str(report_id), action, reason, now
            )
        except DecisionRefused as refused:
            outcome = refused.reason
        else:
            audit(
                session,
                viewer.key,
                f"web.review_{action}",
                decided.target,
                "ok",
                viewer.contact_id,
                now,
                reason=reason,
            )
            outcome = ""
    if outcome in ("not_coordinator", "unlinked"):
        return forbidden(request, target, reason=outcome)
    if outcome:
        audit_web(request, f"web.review_{action}", target, "refused", reason=outcome)
        return page(
            request, "web/dashboard/review_refused.j2", status=409, reason=outcome, code=code
        )
    return RedirectResponse(f"/co-quan/{code}#task-{report.task_id}", status_code=303)


def pending_extensions(session: Session, agency_id: int) -> list[ExtensionRequestInfo]:
    """The agency's extension requests waiting for a decision, oldest first (agency page)."""
    return [r for r in SqlExtensionStore(session).pending(500) if r.agency_id == agency_id]


async def extension(request: Request) -> Response:
    """Chấp thuận / Từ chối an extension request on the agency page: the `/duyet` kind
    `messages.extensions.ExtensionDecisions`, so the deadline, the reminders, the stored
    evaluation and the focal point's message follow exactly as in chat."""
    code = request.path_params["code"]
    viewer = viewer_of(request)
    if viewer is None:
        return page(request, "web/signed_out.j2", status=401)
    form = await small_form(request)
    target = f"agency:{code[:40]}"
    if not csrf_ok(request, form):
        return forbidden(request, target, reason="csrf")
    action = form.get("action", "")
    reason = clean(form.get("ly_do", ""))[:2000]
    try:
        request_id = int(form.get("request_id", ""))
    except ValueError:
        return page(request, "web/not_found.j2", status=404)
    web = request.app.state.web
    now = web.clock.now()
    with transaction(web.engine) as session:
        found = SqlExtensionStore(session).get(request_id)
        agency = session.get(Agency, found.agency_id) if found is not None else None
        if agency is None or agency.code != code or action not in ("approve", "reject"):
            return page(request, "web/not_found.j2", status=404)
        target = f"extension:{request_id}"
        try:
            decided = decide(
                queue_for(session, web.tz), viewer, EXTENSION, str(request_id), action, reason, now
            )
        except DecisionRefused as refused:
            outcome = refused.reason
        else:
            audit(
                session,
                viewer.key,
                f"web.extension_{action}",
                decided.target,
                "ok",
                viewer.contact_id,
                now,
                reason=reason or None,
            )
            outcome = ""
    if outcome in ("not_coordinator", "unlinked"):
        return forbidden(request, target, reason=outcome)
    if outcome:
        audit_web(request, f"web.extension_{action}", target, "refused", reason=outcome)
        return page(
            request, "web/dashboard/extension_refused.j2", status=409, reason=outcome, code=code
        )
    return RedirectResponse(f"/co-quan/{code}#gia-han", status_code=303)


ROUTES = [
    Route("/co-quan/{code}/duyet", review, methods=["POST"], name="dashboard.review"),
    Route("/co-quan/{code}/gia-han", extension, methods=["POST"], name="dashboard.extension"),
]
