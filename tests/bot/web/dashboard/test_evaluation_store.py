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
