"""The kinds of `/duyet` item: reports to review, difficulties to answer — and, defined next
to their own messages, extension requests (`messages/extensions.py`) and round documents
(`messages/review_documents.py`).

Each decision is written, told and counted in the caller's transaction: the report's review or
answer (storage/review/store.py), a message to the agency's focal point through the outbox
(with «Báo cáo lại» on a returned report), and the dashboard's stored evaluation of that
(task, agency). The chat flow (`core/flows/review.py`) and the dashboard's agency page both
reach these through `core.review.decide`, so the role rule and the wording are the same.

`queue_for(session, tz)` builds the queue; another kind is one more entry there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, tzinfo
from pathlib import Path

from sqlmodel import Session

from core.commands import Actor
from core.conversation import Text, say
from core.outgoing import Document, Outgoing
from core.review import (
    ACCEPTED,
    PENDING,
    RETURNED,
    Action,
    Decided,
    DecisionRefused,
    QueueItem,
    QueueKinds,
    has_difficulty,
)
from messages.extensions import ExtensionDecisions
from messages.focal_notice import SendAgain, tell_focal_point
from messages.render import render
from messages.review_documents import DocumentReviews
from storage.reports.evaluation_store import refresh_after_report
from storage.review import store
from storage.review.store import ReportView

REPORT, DIFFICULTY = "report", "difficulty"


def _tell_focal(
    session: Session,
    report: ReportView,
    key: str,
    kind: str,
    template: str,
    now: datetime,
    again: bool = False,
) -> int:
    """Queue `template` to the report's focal point(s); «Báo cáo lại» when `again`."""
    button = SendAgain(render("review/button_again.j2"), "report_again", {"report_id": report.id})
    return tell_focal_point(
        session, report.agency_id, report.reporter_id,
        key=key, kind=kind, text=render(template, r=report), now=now,
        again=button if again else None,
    )  # fmt: skip


def _latest(session: Session, key: str) -> ReportView | None:
    """The report a queue key names, while it is its agency's latest version on the task."""
    try:
        report = store.load(session, int(key))
    except ValueError:
        return None
    return report if report is not None and report.is_latest else None


def _decided(action: str, report: ReportView) -> Decided:
    """What the coordinator is told, for a report or its difficulty."""
    said = say(
        "review/decided.j2",
        action=action,
        receipt=report.receipt,
        ref=report.task_ref,
        agency=report.agency_name,
    )
    return Decided(action, f"report:{report.receipt}", said)


class ReportReviews:
    """`core.review.QueueKind`: reports chờ duyệt → Đạt / Trả lại (with a reason)."""

    name = REPORT

    def __init__(self, session: Session, tz: tzinfo) -> None:
        self.session, self.tz = session, tz

    def waiting(self, limit: int) -> list[QueueItem]:
        return [
            QueueItem(REPORT, str(i), at) for i, at in store.waiting_reviews(self.session, limit)
        ]

    def _pending(self, key: str) -> ReportView | None:
        report = _latest(self.session, key)
        return report if report is not None and report.review == PENDING.value else None

    def show(self, key: str) -> Text | None:
        report = self._pending(key)
        return say("review/report_item.j2", r=report) if report is not None else None

    def attachments(self, key: str) -> list[Outgoing]:
        """The report's evidence files, each as a document (a link on text channels)."""
        report = self._pending(key)
        if report is None:
            return []
        total = len(report.evidence)
        return [
            Outgoing(
                render("review/evidence_caption.j2", r=report, n=n, total=total, f=e),
                document=Document(e.file_name, evidence_id=e.id),
            )
            for n, e in enumerate(report.evidence, start=1)
        ]

    def actions(self, key: str) -> Sequence[Action]:
        report = self._pending(key)
        if report is None:
            return []
        return [
            Action("accept", say("review/button_accept.j2")),
            Action("return", say("review/button_return.j2"), say("review/ask_reason.j2", r=report)),
        ]

    def decide(self, actor: Actor, key: str, action: str, text: str, now: datetime) -> Decided:
        report = self._pending(key)
        if report is None:
            raise DecisionRefused("already_decided")
        status = ACCEPTED if action == "accept" else RETURNED
        if not store.set_review(self.session, report.id, status, text, actor.contact_id, now):
            raise DecisionRefused("already_decided")
        told = store.load(self.session, report.id)
        assert told is not None
        _tell_focal(
            self.session,
            told,
            f"review:{report.id}:{status.value}",
            f"review_{status.value}",
            f"review/told_{status.value}.j2",
            now,
            again=status is RETURNED,
        )
        if status is RETURNED:  # a returned "done" is no longer done: the dashboard follows
            refresh_after_report(self.session, report.task_id, report.agency_id, self.tz, now)
        return _decided(action, report)


class DifficultyAnswers:
    """`core.review.QueueKind`: difficulties raised in reports → an answer to the agency."""

    name = DIFFICULTY

    def __init__(self, session: Session, tz: tzinfo) -> None:
        self.session, self.tz = session, tz

    def waiting(self, limit: int) -> list[QueueItem]:
        return [
            QueueItem(DIFFICULTY, str(i), at)
            for i, at in store.waiting_answers(self.session, limit)
        ]

    def _open(self, key: str) -> ReportView | None:
        report = _latest(self.session, key)
        if report is None or report.answer:
            return None
        return report if has_difficulty(report.status, report.difficulties) else None

    def show(self, key: str) -> Text | None:
        report = self._open(key)
        return say("review/difficulty_item.j2", r=report) if report is not None else None

    def actions(self, key: str) -> Sequence[Action]:
        report = self._open(key)
        if report is None:
            return []
        return [
            Action("answer", say("review/button_answer.j2"), say("review/ask_answer.j2", r=report))
        ]

    def decide(self, actor: Actor, key: str, action: str, text: str, now: datetime) -> Decided:
        report = self._open(key)
        if report is None or not store.set_answer(
            self.session, report.id, text, actor.contact_id, now
        ):
            raise DecisionRefused("already_decided")
        told = store.load(self.session, report.id)
        assert told is not None
        _tell_focal(
            self.session,
            told,
            f"answer:{report.id}",
            "difficulty_answer",
            "review/told_answer.j2",
            now,
        )
        return _decided(action, report)


def queue_for(
    session: Session,
    tz: tzinfo,
    only: Collection[str] | None = None,
    data_dir: Path | None = None,
) -> QueueKinds:
    """The `/duyet` queue: every kind, in this order (the oldest item of any kind comes first).

    With `only`, just those kinds (`/giahan` is `/duyet` over extension requests alone); with
    `data_dir`, a document can be opened from the queue («Xem tài liệu»)."""
    kinds = QueueKinds()
    for kind in (
        ReportReviews(session, tz),
        DifficultyAnswers(session, tz),
        ExtensionDecisions(session, tz),
        DocumentReviews(session, tz, data_dir),
    ):
        if only is None or kind.name in only:
            kinds.add(kind)
    return kinds
