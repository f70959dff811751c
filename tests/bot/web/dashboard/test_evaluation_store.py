"""The stored evaluations: refreshed after a report exactly as a full recompute would have them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

import tests.support.reports as report_support
from core.model import AssignmentRole
from storage.db import transaction
from storage.reports.evaluation_store import refresh_after_report, refresh_all
from storage.tables.reports import AssignmentEvaluation as E
from storage.tables.shared import Assignment, StatusReport
from tests.support.reports import NOW, TZ

demo_engine = report_support.demo_engine
demo_template = report_support.demo_template


def stored(engine, agency_id: int | None = None) -> dict[tuple, tuple]:
    with Session(engine) as session:
        query = select(E)
        if agency_id is not None:
            query = query.where(E.agency_id == agency_id)
        return {
            (e.round_key, e.task_id, e.agency_id): (
                e.verdict,
                e.days_overdue,
                e.report_id,
                e.lead,
                e.as_of,
            )
            for e in session.execute(query).scalars()
        }


def test_a_new_report_refreshes_its_agencys_rows_as_a_full_recompute_would(demo_engine):
    with transaction(demo_engine) as session:
        refresh_all(session, TZ, NOW)
    with Session(demo_engine) as session:
        task_id, agency_id = session.execute(
            select(Assignment.task_id, Assignment.agency_id)
            .where(Assignment.role == AssignmentRole.LEAD.value)
            .order_by(Assignment.id)
        ).first()
    before = stored(demo_engine)[(0, task_id, agency_id)]
    with transaction(demo_engine) as session:
        session.add(
            StatusReport(
                receipt="BC-TEST-1",
                task_id=task_id,
                agency_id=agency_id,
                version=99,
                status="done",
                result="Đã ban hành",
                submitted_at=NOW,
            )
        )
        session.flush()
        refresh_after_report(session, task_id, agency_id, TZ, NOW)
    after_hook = stored(demo_engine, agency_id)
    assert after_hook[(0, task_id, agency_id)][0] in {"done_on_time", "done_late"}
    assert after_hook[(0, task_id, agency_id)] != before
    with transaction(demo_engine) as session:
        refresh_all(session, TZ, NOW)
    assert stored(demo_engine, agency_id) == after_hook


def test_the_day_change_moves_days_overdue(demo_engine):
    with transaction(demo_engine) as session:
        refresh_all(session, TZ, NOW)
    today = stored(demo_engine)
    with transaction(demo_engine) as session:
        refresh_all(session, TZ, NOW + timedelta(days=1))
    tomorrow = stored(demo_engine)
    late = [k for k, v in today.items() if v[1] > 0]
    assert late and all(tomorrow[k][1] == today[k][1] + 1 for k in late)


def test_reports_not_yet_counted_are_found_and_refreshed_off_the_chat_path(demo_engine):
    """`refresh_stale` (the dashboard's background loop) finds every agency whose latest report
    its stored rows do not count, and brings them to what a full recompute gives."""
    from sqlalchemy import update

    from storage.reports.evaluation_store import refresh_stale, stale_agencies

    with transaction(demo_engine) as session:
        refresh_all(session, TZ, NOW)
    full = stored(demo_engine)
    with Session(demo_engine) as session:
        settled = stale_agencies(session)  # reports no stored view counts (see the note)
        counted = {a for _, a in settled}
        agency_id = session.execute(
            select(E.agency_id).where(E.report_id.is_not(None), E.agency_id.not_in(counted))
        ).scalars().first()
    with transaction(demo_engine) as session:  # as if its reports came after the last refresh
        session.execute(update(E).where(E.agency_id == agency_id).values(report_id=None))
    with Session(demo_engine) as session:
        assert {a for _, a in stale_agencies(session)} == counted | {agency_id}
    assert refresh_stale(demo_engine, TZ, NOW) > 0
    with Session(demo_engine) as session:
        assert stale_agencies(session) == settled
    assert stored(demo_engine) == full
