"""Đạt / Trả lại on the agency page (*Cơ quan*): the same decision as `/duyet` in chat; and
Chấp thuận / Từ chối for the agency's extension requests, Đạt / Trả lại for its round documents
and an answer to its difficulties — each the same `/duyet` kind as in chat too.

A POST needs the session's CSRF token; the decision goes through `core.review.decide` (only
coordinators and admins; only a report still chờ duyệt; a return needs its reason) with the
kinds of `messages.review`, so the focal point is told through the outbox and the dashboard's
stored evaluation follows, in the same transaction as the decision and its audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import tzinfo

from sqlalchemy import select
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.auth import FORM_CAP, csrf_ok, small_form, viewer_of
from bot.web.pages import audit_web, forbidden, page
from bot.web.security import BodyTooLarge
from core.commands import Actor
from core.conversation import Invalid, Limits, check_text
from core.extensions import ExtensionRequestInfo
from core.review import DecisionRefused, decide, has_difficulty, may_review
from core.text import clean, sanitize
from messages.extensions import EXTENSION
from messages.review import DIFFICULTY, REPORT, DifficultyAnswers, queue_for
from messages.review_documents import DOCUMENT, DocumentReviews
from storage.chat.state import audit
from storage.db import transaction
from storage.extensions import SqlExtensionStore
from storage.review.documents import SubmissionView, load_submission
from storage.review.store import load
from storage.tables.round_documents import RoundSubmission
from storage.tables.shared import Agency

# An answer may be `Limits.max_text_chars` (3,000) Vietnamese characters; url-encoded, each
# can take up to 9 bytes (three %XX): the answer form gets room for that, the others 16 KB.
ANSWER_FORM_CAP = 4 * FORM_CAP


@dataclass(frozen=True)
class _Decision:
    """A decision form as posted: who, on which agency page, what, why, on which item."""

    viewer: Actor
    code: str
    action: str
    reason: str
    item: int
    answer: str = ""  # the difficulty's answer as typed: controls removed, NFC, lines kept


async def _read_form(
    request: Request, item_field: str, cap: int = FORM_CAP
) -> _Decision | Response:
    """The checks every form shares: signed in, CSRF, the item's id a number."""
    code = request.path_params["code"]
    viewer = viewer_of(request)
    if viewer is None:
        return page(request, "web/signed_out.j2", status=401)
    try:
        form = await small_form(request, cap)
    except BodyTooLarge:  # more than any form of this page can hold: nothing was decided
        return page(request, "web/dashboard/form_too_large.j2", status=413, code=code[:40])
    if not csrf_ok(request, form):
        return forbidden(request, f"agency:{code[:40]}", reason="csrf")
    try:
        item = int(form.get(item_field, ""))
    except ValueError:
        return page(request, "web/not_found.j2", status=404)
    reason = clean(form.get("ly_do", ""))[:2000]
    answer = sanitize(form.get("tra_loi", ""))
    return _Decision(viewer, code, form.get("action", ""), reason, item, answer)


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
            limit=request.app.state.web.limits.max_text_chars,
        )
    done = f"{name}_{form.action}"  # the page confirms it (web/dashboard/decided.j2)
    return RedirectResponse(f"/co-quan/{form.code}?xong={done}#{back}", status_code=303)


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


def pending_documents(session: Session, agency_id: int, tz: tzinfo) -> list[SubmissionView]:
    """The agency's round documents waiting for Đạt / Trả lại, oldest first (agency page).

    Waiting is what the `/duyet` kind says (`DocumentReviews.pending`), so the page and the chat
    queue list the same documents; the candidates are the agency's latest versions."""
    kind = DocumentReviews(session, tz)
    ids = session.execute(
        select(RoundSubmission.id)
        .where(RoundSubmission.agency_id == agency_id, RoundSubmission.is_latest == True)  # noqa: E712
        .order_by(RoundSubmission.submitted_at, RoundSubmission.id)
    ).scalars()
    return [s for s in (kind.pending(str(i)) for i in ids) if s is not None]


def open_difficulties(
    session: Session, tz: tzinfo, reports: list[tuple[int, bool, str, str]]
) -> set[int]:
    """Of the agency's reports (id, latest, status, difficulties), those whose difficulty
    waits for an answer — by the `/duyet` kind's own rule, so chat and page agree."""
    kind = DifficultyAnswers(session, tz)
    return {
        report_id
        for report_id, latest, status, difficulties in reports
        if latest and has_difficulty(status, difficulties) and kind.actions(str(report_id))
    }


async def document(request: Request) -> Response:
    """Đạt / Trả lại a round document on the agency page: the `/duyet` kind
    `messages.review_documents.DocumentReviews`, so its status, the focal point's message
    (with «Gửi lại văn bản» on a return) and the round's count follow exactly as in chat."""
    form = await _read_form(request, "submission_id")
    if isinstance(form, Response):
        return form
    with transaction(request.app.state.web.engine) as session:
        found = load_submission(session, form.item)
        if (
            found is None
            or found.agency_code != form.code
            or form.action not in ("accept", "return")
        ):
            return page(request, "web/not_found.j2", status=404)
        target = f"document:{found.receipt}"
        outcome = _decide(session, request, form, DOCUMENT, "document", form.reason or None)
    return _answer(request, form, outcome, target, "document", "van-ban")


def _checked_answer(form: _Decision, limits: Limits) -> tuple[_Decision, str]:
    """The answer by chat's rule for typed text (`check_text`: NFC, trimmed, not blank, at
    most `limits.max_text_chars`), as the decision's text; "too_long" when it is too long.
    A blank answer goes on empty, for `core.review.decide` to refuse after the role rule."""
    try:
        return replace(form, reason=check_text(form.answer, limits)), ""
    except Invalid:
        too_long = len(form.answer.strip()) > limits.max_text_chars
        return replace(form, reason=""), "too_long" if too_long else ""


async def difficulty(request: Request) -> Response:
    """Trả lời a difficulty on the agency page: the `/duyet` kind
    `messages.review.DifficultyAnswers`, so the answer is stored with the report and the
    focal point gets the same message as when a coordinator answers in chat."""
    form = await _read_form(request, "report_id", cap=ANSWER_FORM_CAP)
    if isinstance(form, Response):
        return form
    web = request.app.state.web
    with transaction(web.engine) as session:
        report = load(session, form.item)
        if report is None or report.agency_code != form.code or form.action != "answer":
            return page(request, "web/not_found.j2", status=404)
        target = f"report:{report.receipt}"
        form, problem = _checked_answer(form, web.limits)
        if problem and may_review(form.viewer) is None:
            outcome = problem
        else:
            outcome = _decide(session, request, form, DIFFICULTY, "difficulty", None)
    return _answer(request, form, outcome, target, "difficulty", f"task-{report.task_id}")


ROUTES = [
    Route("/co-quan/{code}/duyet", review, methods=["POST"], name="dashboard.review"),
    Route("/co-quan/{code}/gia-han", extension, methods=["POST"], name="dashboard.extension"),
    Route("/co-quan/{code}/van-ban", document, methods=["POST"], name="dashboard.document"),
    Route("/co-quan/{code}/vuong-mac", difficulty, methods=["POST"], name="dashboard.difficulty"),
]
