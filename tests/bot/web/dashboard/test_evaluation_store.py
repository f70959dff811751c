"""The stored evaluations: moved by each report in its own transaction exactly as a full
recompute would have them, counted per view as they are stored, kept for closed rounds on
demand, and moved by the day change. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session

import tests.support.reports as report_support
from core.flows.report import ReportDraft
from core.model import AssignmentRole, ReportStatus
from core.report_model import Scope, Verdict
from storage.chat.reports import SqlReportStore
from storage.db import transaction
from storage.demo import seed_demo
from storage.reports.evaluation_store import (
    ensure_stored,
    forget_all,
    refresh_after_report,
    refresh_all,
    refresh_assignment,
    view_for,
)
from storage.tables.reports import AssignmentEvaluation as E
from storage.tables.reports import EvaluationTally as T
from storage.tables.shared import Agency, Assignment, Contact, ReportingRound
from tests.support.reports import NOW, TZ, compiled

demo_engine = report_support.demo_engine
demo_template = report_support.demo_template


def stored(engine, agency_id: int | None = None) -> dict[tuple, tuple]:
    with Session(engine) as session:
        columns = (E.verdict, E.days_overdue, E.report_id, E.lead, E.deadline, E.done_at, E.as_of)
        query = select(E.round_key, E.task_id, E.agency_id, *columns)
        if agency_id is not None:
            query = query.where(E.agency_id == agency_id)
        return {tuple(r[:3]): tuple(r[3:]) for r in session.execute(query)}


def counts(engine) -> dict[tuple, int]:
    """The kept counts, after checking they are exactly the stored rows counted again."""
    with Session(engine) as session:
        kept = {
            (t.round_key, t.task_id, t.lead, t.agency_kind, t.verdict, t.reported): t.pairs
            for t in session.execute(select(T)).scalars()
            if t.pairs  # a count fallen to 0 stays as a row of 0
        }
        reported = E.report_id.is_not(None)
        again = {
            (r[0], r[1], bool(r[2]), r[3], r[4], bool(r[5])): r[6]
            for r in session.execute(
                select(
                    E.round_key, E.task_id, E.lead, E.agency_kind, E.verdict, reported, func.count()
                ).group_by(E.round_key, E.task_id, E.lead, E.agency_kind, E.verdict, reported)
            )
        }
    assert kept == again
    return kept


def test_a_saved_report_moves_its_pair_in_every_stored_view_as_a_full_recompute_would(
    any_engine,
):
    with transaction(any_engine) as session:
        seed_demo(session, TZ)
        refresh_all(session, TZ, NOW)
    before = stored(any_engine)
    with transaction(any_engine) as session:  # VPUBND leads tasks and is in every round
        agency_id, reporter = session.execute(
            select(Agency.id, Contact.id)
            .join(Contact, Contact.agency_id == Agency.id)
            .where(Agency.code == "VPUBND")
        ).first()
        task_ids = (
            session.execute(
                select(Assignment.task_id)
                .where(
                    Assignment.agency_id == agency_id, Assignment.role == AssignmentRole.LEAD.value
                )
                .order_by(Assignment.task_id)
            )
            .scalars()
            .all()[:2]
        )
        reports = SqlReportStore(session, TZ)
        rounds = []
        for task_id, status in zip(
            task_ids, (ReportStatus.DONE, ReportStatus.IN_PROGRESS), strict=True
        ):
            draft = ReportDraft(agency_id, task_id, reporter, status, "Đã làm", None, "")
            rounds.append(reports.save(draft, NOW, "test").round_code)
    moved = stored(any_engine)
    changed = {k for k in moved if moved[k] != before.get(k)}
    assert {(k[1], k[2]) for k in changed} == {(t, agency_id) for t in task_ids}
    assert any(k[0] != 0 for k in changed) and any(rounds)  # a round's view moved too
    assert moved[(0, task_ids[0], agency_id)][0] in {"done_on_time", "done_late"}
    kept = counts(any_engine)
    with transaction(any_engine) as session:  # again, and on a pair nobody holds: no change
        assert refresh_assignment(session, task_ids[0], agency_id, TZ, NOW) == 0  # unchanged
        refresh_after_report(session, task_ids[1], agency_id, TZ, NOW)  # the old name works
        unassigned = (
            session.execute(
                select(Agency.id).where(
                    Agency.id.not_in(
                        select(Assignment.agency_id).where(Assignment.task_id == task_ids[0])
                    )
                )
            )
            .scalars()
            .first()
        )
        assert refresh_assignment(session, task_ids[0], unassigned, TZ, NOW) == 0
    assert stored(any_engine) == moved
    assert counts(any_engine) == kept
    with transaction(any_engine) as session:
        refresh_all(session, TZ, NOW)
    assert stored(any_engine) == moved
    assert counts(any_engine) == kept


def test_a_closed_round_is_stored_when_first_asked_for_and_counts_as_its_report(any_engine):
    with transaction(any_engine) as session:
        seed_demo(session, TZ)
        session.execute(
            update(ReportingRound)
            .where(ReportingRound.code == "BC-QUY-III-2024")
            .values(status="closed")
        )
    with transaction(any_engine) as session:
        refresh_all(session, TZ, NOW)
        view = view_for(session, Scope(round_code="BC-QUY-III-2024"))
        assert not session.execute(select(E).where(E.round_key == view.round_key)).first()
        assert ensure_stored(session, view, TZ, NOW)
        assert not ensure_stored(session, view, TZ, NOW)  # once a day
    expected = compiled(any_engine, Scope(round_code="BC-QUY-III-2024"), now=NOW)
    with Session(any_engine) as session:
        verdicts = session.execute(
            select(E.verdict, func.count())
            .where(E.round_key == view.round_key, E.lead)
            .group_by(E.verdict)
        ).all()
    assert {Verdict(v): n for v, n in verdicts} == {
        v: n for v, n in expected.agency_tally.counts.items() if n
    }
    counts(any_engine)
    with transaction(any_engine) as session:
        assert ensure_stored(session, view, TZ, NOW + timedelta(days=1))  # the next day
        refresh_all(session, TZ, NOW + timedelta(days=1))  # dropped again by the daily job
        assert not session.execute(select(E).where(E.round_key == view.round_key)).first()
        assert not session.execute(select(T).where(T.round_key == view.round_key)).first()
    plan_wide = {k: v for k, v in stored(any_engine).items() if k[0] == 0}
    with transaction(any_engine) as session:  # after an import: dropped, stored when asked
        forget_all(session, NOW + timedelta(days=1))
        assert not session.execute(select(E)).first() and not session.execute(select(T)).first()
        assert ensure_stored(session, view_for(session, Scope()), TZ, NOW + timedelta(days=1))
    assert stored(any_engine) == plan_wide
    counts(any_engine)


def test_the_day_change_moves_days_overdue(demo_engine):
    with transaction(demo_engine) as session:
        refresh_all(session, TZ, NOW)
    today = stored(demo_engine)
    with transaction(demo_engine) as session:
        refresh_all(session, TZ, NOW + timedelta(days=1))
    tomorrow = stored(demo_engine)
    late = [k for k, v in today.items() if v[1] > 0]
    assert late and all(tomorrow[k][1] == today[k][1] + 1 for k in late)
    counts(demo_engine)


def test_a_returned_report_and_an_approved_extension_move_the_pair_as_a_full_recompute_would(
    any_engine,
):
    """What review and extensions change — a report returned (not done), a deadline moved for
    one agency — is read by the single-pair refresh exactly as by the full report loader."""
    from datetime import date

    from core.extensions import ExtensionStatus
    from storage.tables.extensions import ExtensionRequest
    from storage.tables.shared import StatusReport, Task

    with transaction(any_engine) as session:
        seed_demo(session, TZ)
        refresh_all(session, TZ, NOW)
    with transaction(any_engine) as session:
        done = session.execute(
            select(StatusReport.task_id, StatusReport.agency_id, StatusReport.id)
            .join(
                Assignment,
                (Assignment.task_id == StatusReport.task_id)
                & (Assignment.agency_id == StatusReport.agency_id),
            )
            .join(Task, Task.id == StatusReport.task_id)
            .where(
                StatusReport.is_latest == True,  # noqa: E712
                StatusReport.status == ReportStatus.DONE.value,
                Assignment.role == AssignmentRole.LEAD.value,
                Task.due_date.is_not(None),
            )
            .order_by(StatusReport.id)
        ).first()
        assert done is not None
        returned_pair = (done[0], done[1])
        session.execute(
            update(StatusReport)
            .where(StatusReport.id == done[2])
            .values(review="returned", review_reason="Thiếu tài liệu kiểm chứng")
        )
        late = session.execute(
            select(E.task_id, E.agency_id)
            .where(E.round_key == 0, E.verdict == "overdue")
            .order_by(E.task_id, E.agency_id)
        ).first()
        assert late is not None
        extended_pair = (late[0], late[1])
        session.add(
            ExtensionRequest(
                task_id=late[0],
                agency_id=late[1],
                new_date=date(2099, 12, 31),
                reason="Chờ kinh phí",
                status=ExtensionStatus.APPROVED.value,
                decided_at=NOW,
            )
        )
    with transaction(any_engine) as session:
        for pair in (returned_pair, extended_pair):
            assert refresh_assignment(session, *pair, TZ, NOW) >= 1
    with Session(any_engine) as session:
        extended_from = session.execute(
            select(E.extended_from).where(
                E.round_key == 0, E.task_id == extended_pair[0], E.agency_id == extended_pair[1]
            )
        ).scalar_one()
    assert extended_from is not None
    moved = stored(any_engine)
    assert moved[(0, *returned_pair)][0] not in {"done_on_time", "done_late"}
    assert (
        moved[(0, *extended_pair)][0] == Verdict.IN_PROGRESS.value
        or moved[(0, *extended_pair)][0] == Verdict.NOT_REPORTED.value
    )
    kept = counts(any_engine)
    with transaction(any_engine) as session:
        refresh_all(session, TZ, NOW)
    assert stored(any_engine) == moved
    assert counts(any_engine) == kept
