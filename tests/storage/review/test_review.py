"""Review and difficulties at the storage seam, on SQLite and PostgreSQL: the queue is oldest
first across kinds, a decision is made once (a second one is refused), only coordinators
decide, an answer reaches the focal point through the outbox and is stored with the report,
and a difficulty unanswered for more than 2 working days shows in the coordinators' digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from core.clock import FixedClock
from core.commands import Actor
from core.flows.report import ReportDraft
from core.model import ReportStatus, UserRole
from core.report_model import Scope
from core.review import DecisionRefused, decide
from messages.reports.build import compile_report
from messages.review import queue_for
from scheduler.context import Scheduling
from scheduler.digest import sweep_digest
from storage.chat.reports import SqlReportStore
from storage.db import transaction
from storage.review.store import set_plan_review
from storage.tables.shared import Agency, Outbox, Plan, StatusReport, Task
from tests.support.scheduling import add_contact

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MON = datetime(2024, 7, 1, 3, 0, tzinfo=UTC)  # Monday 10:00 in Hà Nội


def actor(contact_id: int, role: UserRole, agency_id: int | None = None) -> Actor:
    return Actor(contact_id, "telegram", str(contact_id), str(contact_id), role, agency_id)


def file_report(engine, agency: str, ref: str, status: ReportStatus, difficulties: str, at):
    with transaction(engine) as session:
        agency_id = session.exec(select(Agency.id).where(Agency.code == agency)).one()
        task_id = session.exec(select(Task.id).where(Task.ref == ref)).first()
        assert task_id is not None
        draft = ReportDraft(agency_id, task_id, None, status, "Đang làm", None, difficulties)  # type: ignore[arg-type]
        return SqlReportStore(session, TZ).save(draft, at, "i" + str(at.timestamp())[:8])


def test_queue_oldest_first_decided_once_and_only_by_coordinators(any_engine):
    engine = any_engine
    focal = add_contact(engine, "focal", "STP", "501")
    coord = add_contact(engine, "coordinator", "SNV", "502")
    first = file_report(engine, "STP", "III.4.1", ReportStatus.DONE, "", MON)
    second = file_report(
        engine, "STP", "II.1.a", ReportStatus.BLOCKED, "Thiếu kinh phí", MON + timedelta(hours=1)
    )
    assert first.review == "pending" and second.review == "pending"
    with transaction(engine) as session:
        queue = queue_for(session, TZ)
        head = queue.head()
        assert head is not None and (head.kind, head.key) == ("report", str(first.report_id))
        after = queue.head([f"report:{first.report_id}"])
        assert after is not None and after.key == str(second.report_id)
        assert queue.count() == 3  # two reports to review, one difficulty to answer
        with pytest.raises(DecisionRefused) as refused:
            decide(queue, actor(focal, UserRole.FOCAL, 1), "report", head.key, "accept", "", MON)
        assert refused.value.reason == "not_coordinator"
        with pytest.raises(DecisionRefused):  # a return needs a reason
            decide(
                queue, actor(coord, UserRole.COORDINATOR), "report", head.key, "return", " ", MON
            )
        done = decide(
            queue, actor(coord, UserRole.COORDINATOR), "report", head.key, "accept", "", MON
        )
        assert done.target == f"report:{first.receipt}"
        with pytest.raises(DecisionRefused) as twice:
            decide(
                queue, actor(coord, UserRole.COORDINATOR), "report", head.key, "return", "x", MON
            )
        assert twice.value.reason == "already_decided"
    with Session(engine) as session:
        row = session.get(StatusReport, first.report_id)
        assert row is not None and row.review == "accepted" and row.reviewed_by == coord
        told = session.exec(select(Outbox).where(Outbox.contact_id == focal)).all()
        assert [o.kind for o in told] == ["review_accepted"]


def test_review_off_accepts_at_once_and_returned_counts_as_not_done(any_engine):
    engine = any_engine
    add_contact(engine, "focal", "STP", "601")
    coord = add_contact(engine, "coordinator", "SNV", "602")
    with transaction(engine) as session:
        code = session.exec(select(Plan.code)).first()
        assert code is not None and set_plan_review(session, code, False)
    saved = file_report(engine, "STP", "III.4.1", ReportStatus.DONE, "", MON)
    assert saved.review == "accepted"
    with transaction(engine) as session:
        assert queue_for(session, TZ).head() is None
        set_plan_review(session, code, True)
    again = file_report(engine, "STP", "III.4.1", ReportStatus.DONE, "", MON + timedelta(hours=1))
    scope = Scope(agency_code="STP", as_of=MON.date())
    with transaction(engine) as session:
        before = compile_report(session, scope, TZ, MON)
        queue = queue_for(session, TZ)
        decide(
            queue,
            actor(coord, UserRole.COORDINATOR),
            "report",
            str(again.report_id),
            "return",
            "Thiếu tài liệu",
            MON,
        )
        after = compile_report(session, scope, TZ, MON)
    pair = lambda report: next(  # noqa: E731
        e for t in report.tasks if t.task.ref == "III.4.1" for e in t.leads
    )
    assert pair(before).done_at is not None and before.review_tally["done_pending"] == 1
    assert pair(after).done_at is None and after.review_tally["returned"] == 1
    assert pair(after).report.review_reason == "Thiếu tài liệu"


def test_difficulty_answered_reaches_the_focal_point_and_unanswered_shows_in_the_digest(
    any_engine,
):
    engine = any_engine
    focal = add_contact(engine, "focal", "STP", "701")
    coord = add_contact(engine, "coordinator", "SNV", "702")
    file_report(engine, "STP", "II.1.a", ReportStatus.BLOCKED, "Thiếu kinh phí số hoá", MON)
    late = file_report(engine, "STP", "III.4.1", ReportStatus.IN_PROGRESS, "Chưa có hướng dẫn", MON)

    def digest_on(day: int) -> str:
        clock = FixedClock(datetime(2024, 7, day, 1, 0, tzinfo=UTC))  # 08:00 local
        sweep_digest(Scheduling(engine, clock))
        with Session(engine) as session:
            rows = session.exec(
                select(Outbox).where(
                    Outbox.contact_id == coord,
                    Outbox.idempotency_key.like(f"digest:2024-07-{day:02d}%"),
                )
            ).all()
        return json.loads(rows[0].payload)["text"]

    assert "Vướng mắc chưa được trả lời" not in digest_on(3)  # Wednesday: 2 working days
    with transaction(engine) as session:
        queue = queue_for(session, TZ)
        decide(
            queue,
            actor(coord, UserRole.COORDINATOR),
            "difficulty",
            str(late.report_id),
            "answer",
            "Áp dụng Công văn 123/SNV",
            MON + timedelta(days=1),
        )
    thursday = digest_on(4)
    assert "Vướng mắc chưa được trả lời quá 2 ngày làm việc (1)" in thursday
    assert "Thiếu kinh phí số hoá" in thursday and "Chưa có hướng dẫn" not in thursday
    with Session(engine) as session:
        row = session.get(StatusReport, late.report_id)
        assert row is not None and row.answer == "Áp dụng Công văn 123/SNV"
        told = session.exec(select(Outbox).where(Outbox.contact_id == focal)).all()
        answer = [json.loads(o.payload)["text"] for o in told if o.kind == "difficulty_answer"]
        assert len(answer) == 1 and "Áp dụng Công văn 123/SNV" in answer[0]


def test_a_returned_done_report_brings_the_task_back_among_what_the_agency_owes(any_engine):
    from storage.scheduling.obligations import task_obligations
    from storage.tables.shared import Assignment

    engine = any_engine
    coord = add_contact(engine, "coordinator", "SNV", "802")
    with Session(engine) as session:
        stp = session.exec(select(Agency.id).where(Agency.code == "STP")).one()
        ref = session.exec(
            select(Task.ref)
            .join(Assignment, Assignment.task_id == Task.id)
            .where(
                Assignment.agency_id == stp, Assignment.role == "lead", Task.due_date.is_not(None)
            )
        ).first()
    assert ref is not None
    saved = file_report(engine, "STP", ref, ReportStatus.DONE, "", MON)

    def owed() -> bool:
        with Session(engine) as session:
            return any(
                o.agency_id == stp and o.task_ids and saved_task(session) in o.task_ids
                for o in task_obligations(session, None, agency_ids=[stp])
            )

    def saved_task(session) -> int:
        return session.exec(
            select(StatusReport.task_id).where(StatusReport.id == saved.report_id)
        ).one()

    assert not owed()
    with transaction(engine) as session:
        decide(
            queue_for(session, TZ),
            actor(coord, UserRole.COORDINATOR),
            "report",
            str(saved.report_id),
            "return",
            "Thiếu tài liệu",
            MON,
        )
    assert owed()


def test_the_word_report_lists_difficulties_with_their_answers(engine, tmp_path):
    import docx

    from messages.reports.build import Format, write_output
    from storage.reports.query import letterhead

    coord = add_contact(engine, "coordinator", "SNV", "902")
    file_report(engine, "STP", "II.1.a", ReportStatus.BLOCKED, "Thiếu kinh phí số hoá", MON)
    answered = file_report(engine, "STC", "III.4.1", ReportStatus.BLOCKED, "Chưa có hướng dẫn", MON)
    with transaction(engine) as session:
        decide(
            queue_for(session, TZ),
            actor(coord, UserRole.COORDINATOR),
            "difficulty",
            str(answered.report_id),
            "answer",
            "Áp dụng Công văn 123/SNV",
            MON,
        )
        report = compile_report(session, Scope(as_of=MON.date()), TZ, MON)
        path = tmp_path / "bao-cao.docx"
        write_output(
            Format.DOCX,
            report,
            path,
            TZ,
            letterhead(session, report.data.plan, "SNV", None, ""),
            session,
        )
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "Các khó khăn, vướng mắc đã được trả lời (1 ý kiến):" in text
    assert (
        "- Sở Tài chính (nhiệm vụ III.4.1): Chưa có hướng dẫn. "
        "Ý kiến trả lời: Áp dụng Công văn 123/SNV" in text
    )
    assert "Các khó khăn, vướng mắc đang được xem xét, trả lời (1 ý kiến):" in text
    assert "- Sở Tư pháp (nhiệm vụ II.1.a): Thiếu kinh phí số hoá." in text
