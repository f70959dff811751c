"""storage.reports.query and storage.demo, on SQLite and on PostgreSQL when configured."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from core.model import AssignmentRole
from core.report_model import Scope, Verdict
from storage.db import transaction
from storage.demo import DEMO_PREFIX, count_demo, remove_demo, seed_demo
from storage.reports.query import (
    ScopeError,
    iter_evidence,
    letterhead,
    load_report_data,
    place_of,
    territory_of,
)
from storage.tables.shared import (
    Agency,
    Assignment,
    Contact,
    EvidenceFile,
    ReportingRound,
    StatusReport,
    Task,
)
from tests.support.reports import AS_OF, NOW, TZ, compiled

CUTOFF = datetime(2025, 3, 31, 17, 0, tzinfo=UTC)  # midnight after AS_OF in Hà Nội


def seed(engine, seed_value: int = 2024):
    with transaction(engine) as session:
        return seed_demo(session, TZ, seed=seed_value)


def demo_rows(engine) -> list[tuple]:
    with Session(engine) as session:
        rows = session.execute(
            select(
                Task.ref,
                Agency.code,
                StatusReport.version,
                StatusReport.status,
                StatusReport.result,
                StatusReport.figure,
                StatusReport.difficulties,
                StatusReport.submitted_at,
                StatusReport.is_latest,
            )
            .join(Task, Task.id == StatusReport.task_id)
            .join(Agency, Agency.id == StatusReport.agency_id)
            .order_by(Task.ref, Agency.code, StatusReport.round_id, StatusReport.version)
        ).all()
        files = session.execute(
            select(EvidenceFile.file_name, EvidenceFile.sha256).order_by(EvidenceFile.sha256)
        ).all()
    return [tuple(r) for r in rows] + [tuple(f) for f in files]


def test_loaded_pairs_and_reports_match_the_database(any_engine):
    seed(any_engine)
    with transaction(any_engine) as session:
        data = load_report_data(session, Scope(as_of=AS_OF), TZ, NOW)
        leads = session.execute(
            select(
                func.count(func.distinct(Assignment.task_id * 100000 + Assignment.agency_id))
            ).where(Assignment.role == AssignmentRole.LEAD.value)
        ).scalar_one()
        before_cutoff = session.execute(
            select(func.count()).select_from(StatusReport).where(StatusReport.submitted_at < CUTOFF)
        ).scalar_one()
        tasks = session.execute(select(func.count()).select_from(Task)).scalar_one()
    assert sum(len(ids) for ids in data.leads.values()) == leads
    assert len(data.reports) == before_cutoff > 0
    assert len(data.tasks) == tasks
    assert all(r.submitted_at < CUTOFF for r in data.reports)
    assert any(r.evidence for r in data.reports)


def test_as_of_leaves_later_reports_out(any_engine):
    seed(any_engine)
    early = compiled(any_engine, Scope(as_of=date(2024, 9, 30)))
    late = compiled(any_engine, Scope(as_of=AS_OF))
    assert len(early.data.reports) < len(late.data.reports)
    # before the deadline nothing can be overdue; afterwards some is
    assert early.agency_tally.counts[Verdict.OVERDUE] == 0
    assert late.agency_tally.counts[Verdict.OVERDUE] > 0
    assert early.agency_tally.total == late.agency_tally.total


def test_filters_narrow_tasks_and_agencies(any_engine):
    seed(any_engine)
    area = compiled(any_engine, Scope(area_code="iii", as_of=AS_OF))
    areas = {a.id: a.code for a in area.data.areas}
    assert area.data.tasks and {areas[t.area_id] for t in area.data.tasks} == {"III"}
    communes = compiled(any_engine, Scope(agency_kind="commune", as_of=AS_OF))
    assert {a.kind for a in communes.data.agencies.values()} == {"commune"}
    stp = compiled(any_engine, Scope(agency_code="STP", as_of=AS_OF))
    assert [a.code for a in stp.data.agencies.values()] == ["STP"]
    with Session(any_engine) as session:
        stp_tasks = session.execute(
            select(func.count(func.distinct(Assignment.task_id)))
            .join(Agency, Agency.id == Assignment.agency_id)
            .where(Agency.code == "STP")
        ).scalar_one()
    assert len(stp.data.tasks) == stp_tasks
    assert all(r.agency_id == next(iter(stp.data.agencies)) for r in stp.data.reports)


def test_a_round_counts_its_own_reports_and_audience_against_its_deadline(any_engine):
    seed(any_engine)
    with Session(any_engine) as session:
        round_ = session.execute(
            select(ReportingRound).where(ReportingRound.code == "BC-TTHC-HANGTHANG")
        ).scalar_one()
        audience = set(json.loads(round_.audience)["agencies"])
        in_round = session.execute(
            select(func.count())
            .select_from(StatusReport)
            .where(StatusReport.round_id == round_.id, StatusReport.submitted_at < CUTOFF)
        ).scalar_one()
    report = compiled(any_engine, Scope(round_code="BC-TTHC-HANGTHANG", as_of=AS_OF))
    assert {a.code for a in report.data.agencies.values()} <= audience
    assert len(report.data.reports) == in_round > 0
    assert {t.deadline for t in report.tasks} == {round_.deadline}


@pytest.mark.parametrize(
    ("scope", "what"),
    [
        (Scope(plan_code="KHONG-CO"), "plan"),
        (Scope(round_code="KHONG-CO"), "round"),
        (Scope(area_code="IX"), "area"),
        (Scope(agency_kind="province"), "kind"),
        (Scope(agency_code="KHONG-CO"), "agency"),
    ],
)
def test_unknown_scope_names_what_is_wrong(engine, scope, what):
    with transaction(engine) as session, pytest.raises(ScopeError) as error:
        load_report_data(session, scope, TZ, NOW)
    assert error.value.what == what


def test_demo_is_deterministic_idempotent_and_leaves_real_reports_alone(any_engine):
    with transaction(any_engine) as session:
        task = session.execute(select(Task).where(Task.ref == "II.1.a")).scalar_one()
        stp = session.execute(select(Agency).where(Agency.code == "STP")).scalar_one()
        session.add(
            StatusReport(
                receipt="REAL-1",
                task_id=task.id,
                agency_id=stp.id,
                status="done",
                result="Báo cáo thật",
                submitted_at=NOW,
            )
        )
    first = seed(any_engine)
    rows = demo_rows(any_engine)
    second = seed(any_engine)
    assert demo_rows(any_engine) == rows
    assert second.removed == first.versions and second.reports == first.reports
    assert first.skipped_real == 1 and first.late_agencies > 0
    with Session(any_engine) as session:
        real = (
            session.execute(
                select(StatusReport).where(
                    StatusReport.task_id == task.id, StatusReport.agency_id == stp.id
                )
            )
            .scalars()
            .all()
        )
        statuses = set(session.execute(select(StatusReport.status).distinct()).scalars())
        demo_contacts = (
            session.execute(select(Contact.active).where(Contact.user_id.like("demo:%")))
            .scalars()
            .all()
        )
    assert [r.receipt for r in real] == ["REAL-1"]
    assert statuses == {"done", "in_progress", "blocked", "not_started"}
    assert demo_contacts and not any(demo_contacts)  # nobody is ever messaged
    other = seed(any_engine, seed_value=7)
    assert other.versions != first.versions or demo_rows(any_engine) != rows
    with transaction(any_engine) as session:
        assert remove_demo(session) == other.versions
        assert count_demo(session) == 0
        left = session.execute(
            select(StatusReport.receipt).where(StatusReport.receipt.like(f"{DEMO_PREFIX}%"))
        ).all()
    assert left == []


def test_evidence_streams_with_its_bytes(engine):
    seed(engine)
    with transaction(engine) as session:
        data = load_report_data(session, Scope(area_code="I", as_of=AS_OF), TZ, NOW)
        files = list(iter_evidence(session, data, batch=7))
        stored = {i: s for i, s in session.execute(select(EvidenceFile.id, EvidenceFile.sha256))}
    expected = sum(len(r.evidence) for r in data.reports)
    assert len(files) == expected > 7
    for _report, info, content in files:
        assert hashlib.sha256(content).hexdigest() == stored[info.id]
        assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")


def test_letterhead_comes_from_the_plan_and_the_issuer_agency(engine):
    with transaction(engine) as session:
        data = load_report_data(session, Scope(area_code="I"), TZ, NOW)
        head = letterhead(session, data.plan, "SNV")
        with pytest.raises(ScopeError):
            letterhead(session, data.plan, "KHONG-CO")
    assert head.parent_body == data.plan.issuer
    assert head.body == "Sở Nội vụ" and head.body_code == "SNV"
    assert head.place == place_of(data.plan.issuer) == "Quảng Nam"
    assert territory_of("Ủy ban nhân dân thành phố Đà Nẵng") == "thành phố Đà Nẵng"
    assert place_of("UBND thành phố Đà Nẵng") == "Đà Nẵng"
