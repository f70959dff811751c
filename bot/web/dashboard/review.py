"""Đạt / Trả lại on the agency page (*Cơ quan*): the same decision as `/duyet` in chat; and
Chấp thuận / Từ chối for the agency's extension requests, the same as in chat too.

A POST needs the session's CSRF token; the decision goes through `core.review.decide` (only
coordinators and admins; only a report still chờ duyệt; a return needs its reason) with the
kinds of `messages.review`, so the focal point is told through the outbox and the dashboard's
stored evaluation follows, in the same transaction as the decision and its audit row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.auth import csrf_ok, small_form, viewer_of
from bot.web.pages import audit_web, forbidden, page
from core.commands import Actor
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


@dataclass(frozen=True)
class _Decision:
    """A decision form as posted: who, on which agency page, what, why, on which item."""

    viewer: Actor
    code: str
    action: str
    reason: str
    item: int


async def _read_form(request: Request, item_field: str) -> _Decision | Response:
    """The checks both forms share: signed in, CSRF, the item's id a number."""
    code = request.path_params["code"]
    viewer = viewer_of(request)
    if viewer is None:
        return page(request, "web/signed_out.j2", status=401)
    form = await small_form(request)
    if not csrf_ok(request, form):
        return forbidden(request, f"agency:{code[:40]}", reason="csrf")
    try:
        item = int(form.get(item_field, ""))
    except ValueError:
        return page(request, "web/not_found.j2", status=404)
    reason = clean(form.get("ly_do", ""))[:2000]
    return _Decision(viewer, code, form.get("action", ""), reason, item)


def _decide(
    session: Session, request: Request, form: _Decision, kind: str, name: str, noted: object
) -> str:
    """The `/duyet` decision of `kind`, audited as `web.<name>_<action>`; "" or why refused."""
    web = request.app.state.web
    now = web.clock.now()
    try:
        decided = decide(
            queue_for(session, web.tz),
            form.viewer,
            kind,
            str(form.item),
            form.action,
            form.reason,
            now,
        )
    except DecisionRefused as refused:
        return refused.reason
    audit(
        session,
        form.viewer.key,
        f"web.{name}_{form.action}",
        decided.target,
        "ok",
        form.viewer.contact_id,
        now,
        reason=noted,
    )
    return ""


def _answer(
    request: Request, form: _Decision, outcome: str, target: str, name: str, back: str
) -> Response:
    """403 for who may not decide, 409 with the reason for a refusal, else back to the page."""
    if outcome in ("not_coordinator", "unlinked"):
        return forbidden(request, target, reason=outcome)
    if outcome:
        audit_web(request, f"web.{name}_{form.action}", target, "refused", reason=outcome)
        return page(
            request,
            f"web/dashboard/{name}_refused.j2",
            status=409,
            reason=outcome,
            code=form.code,
        )
    return RedirectResponse(f"/co-quan/{form.code}#{back}", status_code=303)


async def review(request: Request) -> Response:
    form = await _read_form(request, "report_id")
    if isinstance(form, Response):
        return form
    with transaction(request.app.state.web.engine) as session:
        report = load(session, form.item)
        if (
            report is None
            or report.agency_code != form.code
            or form.action not in ("accept", "return")
        ):
            return page(request, "web/not_found.j2", status=404)
        target = f"report:{report.receipt}"
        outcome = _decide(session, request, form, REPORT, "review", form.reason)
    return _answer(request, form, outcome, target, "review", f"task-{report.task_id}")


def pending_extensions(session: Session, agency_id: int) -> list[ExtensionRequestInfo]:
    """The agency's extension requests waiting for a decision, oldest first (agency page)."""
    return [r for r in SqlExtensionStore(session).pending(500) if r.agency_id == agency_id]


async def extension(request: Request) -> Response:
    """Chấp thuận / Từ chối an extension request on the agency page: the `/duyet` kind
    `messages.extensions.ExtensionDecisions`, so the deadline, the reminders, the stored
    evaluation and the focal point's message follow exactly as in chat."""
    form = await _read_form(request, "request_id")
    if isinstance(form, Response):
        return form
    with transaction(request.app.state.web.engine) as session:
        found = SqlExtensionStore(session).get(form.item)
        agency = session.get(Agency, found.agency_id) if found is not None else None
        if agency is None or agency.code != form.code or form.action not in ("approve", "reject"):
            return page(request, "web/not_found.j2", status=404)
        target = f"extension:{form.item}"
        outcome = _decide(session, request, form, EXTENSION, "extension", form.reason or None)
    return _answer(request, form, outcome, target, "extension", "gia-han")


ROUTES = [
    Route("/co-quan/{code}/duyet", review, methods=["POST"], name="dashboard.review"),
    Route("/co-quan/{code}/gia-han", extension, methods=["POST"], name="dashboard.extension"),
]
