"""core.evaluation and core.report_model.scope_for: the officials' five words, and who sees what."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.evaluation import evaluate, judge, task_verdict, window
from core.model import UserRole
from core.report_model import (
    AgencyInfo,
    AreaInfo,
    PlanInfo,
    ReportData,
    ReportInfo,
    ReportRefused,
    RoundInfo,
    Scope,
    TaskInfo,
    Verdict,
    scope_for,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEADLINE = date(2024, 12, 31)
_ids = iter(range(1, 10_000))


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A local (Hà Nội) wall-clock moment, as the database holds it (aware UTC)."""
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(UTC)


def rep(status: str, when: datetime, task: int = 1, agency: int = 1, version: int = 1):
    rid = next(_ids)
    return ReportInfo(
        rid, f"R{rid}", task, agency, None, "", version, status, "kết quả", None, "", when
    )


def verdict_of(versions: list[ReportInfo], deadline: date | None, as_of: date) -> Verdict:
    data = _data([_task(1, deadline)], {1: [1]}, {}, versions, as_of)
    return evaluate(data, TZ).tasks[0].leads[0].verdict


def _task(task_id: int, due: date | None, area: int = 1, position: int | None = None):
    return TaskInfo(
        task_id,
        f"I.{task_id}",
        area,
        position or task_id,
        f"Nhiệm vụ {task_id}",
        "Trong năm 2024",
        "date" if due else "recurring",
        due,
        "",
        "",
        "",
    )


def _data(tasks, leads, coordinators, reports, as_of, round_=None, kinds=None) -> ReportData:
    kinds = kinds or {}
    agency_ids = {a for ids in list(leads.values()) + list(coordinators.values()) for a in ids}
    return ReportData(
        plan=PlanInfo(1, "P", "Kế hoạch", 2024, "UBND tỉnh X"),
        round=round_,
        scope=Scope(),
        as_of=as_of,
        generated_at=datetime(2025, 1, 1, tzinfo=UTC),
        areas=[AreaInfo(1, "I", "Lĩnh vực một", 0), AreaInfo(2, "II", "Lĩnh vực hai", 1)],
        tasks=tasks,
        agencies={
            a: AgencyInfo(a, f"A{a}", f"Cơ quan {a}", kinds.get(a, "department"))
            for a in agency_ids
        },
        leads=leads,
        coordinators=coordinators,
        reports=reports,
    )


def test_done_on_or_before_the_deadline_is_on_time_after_it_late():
    assert verdict_of([rep("done", at(DEADLINE, 16))], DEADLINE, date(2025, 3, 1)) is (
        Verdict.DONE_ON_TIME
    )
    assert verdict_of([rep("done", at(date(2025, 1, 2)))], DEADLINE, date(2025, 3, 1)) is (
        Verdict.DONE_LATE
    )


def test_lateness_uses_the_local_date_not_utc():
    # 23:30 in Hà Nội on the deadline day is 16:30 UTC: on time.
    assert verdict_of([rep("done", at(DEADLINE, 23, 30))], DEADLINE, date(2025, 2, 1)) is (
        Verdict.DONE_ON_TIME
    )
    # 00:30 in Hà Nội on the next day is still 31/12 in UTC: late all the same.
    late = at(DEADLINE + timedelta(days=1), 0, 30)
    assert late.date() == DEADLINE
    assert verdict_of([rep("done", late)], DEADLINE, date(2025, 2, 1)) is Verdict.DONE_LATE


def test_correcting_a_done_report_after_the_deadline_keeps_it_on_time():
    first = rep("done", at(date(2024, 12, 20)), version=1)
    fix = rep("done", at(date(2025, 1, 10)), version=2)
    assert verdict_of([first, fix], DEADLINE, date(2025, 2, 1)) is Verdict.DONE_ON_TIME
    # but done → in progress → done again counts from the last "done" run
    back = rep("in_progress", at(date(2024, 12, 25)), version=2)
    again = rep("done", at(date(2025, 1, 5)), version=3)
    assert verdict_of([first, back, again], DEADLINE, date(2025, 2, 1)) is Verdict.DONE_LATE


def test_not_done_is_in_progress_until_the_deadline_then_overdue():
    versions = [rep("in_progress", at(date(2024, 9, 1)))]
    assert verdict_of(versions, DEADLINE, DEADLINE) is Verdict.IN_PROGRESS
    assert verdict_of(versions, DEADLINE, DEADLINE + timedelta(days=1)) is Verdict.OVERDUE
    blocked = [rep("blocked", at(date(2024, 9, 1)))]
    assert verdict_of(blocked, DEADLINE, date(2025, 1, 5)) is Verdict.OVERDUE
    not_started = [rep("not_started", at(date(2024, 9, 1)))]
    assert verdict_of(not_started, DEADLINE, date(2024, 10, 1)) is Verdict.IN_PROGRESS


def test_no_report_is_not_reported_until_the_deadline_then_overdue():
    assert verdict_of([], DEADLINE, DEADLINE) is Verdict.NOT_REPORTED
    verdict, done_at, days = judge(None, None, window(DEADLINE, date(2025, 1, 10), TZ))
    assert (verdict, done_at, days) == (Verdict.OVERDUE, None, 10)


def test_tasks_without_a_date_are_never_late():
    late_day = date(2026, 6, 1)
    assert verdict_of([rep("done", at(late_day))], None, late_day) is Verdict.DONE_ON_TIME
    assert verdict_of([rep("blocked", at(late_day))], None, late_day) is Verdict.IN_PROGRESS
    assert verdict_of([], None, late_day) is Verdict.NOT_REPORTED


def test_reports_after_the_as_of_date_are_the_loaders_job_but_order_is_by_time():
    # Out-of-order input: the latest by time wins, whatever the list order.
    later = rep("done", at(date(2024, 11, 1)), version=2)
    earlier = rep("in_progress", at(date(2024, 10, 1)), version=1)
    assert verdict_of([later, earlier], DEADLINE, date(2024, 12, 1)) is Verdict.DONE_ON_TIME


def test_a_round_deadline_replaces_the_task_due_date():
    round_ = RoundInfo(1, "K", "Kỳ", date(2024, 7, 5))
    data = _data(
        [_task(1, DEADLINE)],
        {1: [1]},
        {},
        [rep("done", at(date(2024, 7, 8)))],
        date(2024, 8, 1),
        round_,
    )
    result = evaluate(data, TZ).tasks[0]
    assert result.deadline == date(2024, 7, 5)
    assert result.verdict is Verdict.DONE_LATE


def test_task_verdict_over_its_lead_agencies():
    def pairs(*verdicts: Verdict, reported: bool = True):
        from core.report_model import Evaluation

        report = rep("in_progress", at(date(2024, 9, 1))) if reported else None
        return [
            Evaluation(1, i, True, v, DEADLINE, report, None, 0) for i, v in enumerate(verdicts)
        ]

    assert task_verdict(pairs(Verdict.DONE_ON_TIME, Verdict.DONE_ON_TIME)) is Verdict.DONE_ON_TIME
    assert task_verdict(pairs(Verdict.DONE_ON_TIME, Verdict.DONE_LATE)) is Verdict.DONE_LATE
    assert task_verdict(pairs(Verdict.DONE_ON_TIME, Verdict.OVERDUE)) is Verdict.OVERDUE
    assert task_verdict(pairs(Verdict.DONE_ON_TIME, Verdict.NOT_REPORTED)) is Verdict.IN_PROGRESS
    assert task_verdict(pairs(Verdict.NOT_REPORTED, reported=False)) is Verdict.NOT_REPORTED
    assert task_verdict([]) is Verdict.NOT_REPORTED


def test_lead_figures_count_leads_only_and_coordinating_tasks_are_counted_apart():
    as_of = date(2025, 1, 15)
    tasks = [_task(1, DEADLINE), _task(2, DEADLINE, area=2)]
    reports = [
        rep("done", at(date(2024, 10, 1)), task=1, agency=1),
        rep("done", at(date(2024, 10, 1)), task=1, agency=3),  # a coordinator's report
        rep("in_progress", at(date(2024, 10, 1)), task=2, agency=3),
    ]
    data = _data(
        tasks,
        {1: [1, 2]},
        {1: [3], 2: [3]},
        reports,
        as_of,
        kinds={1: "department", 2: "district", 3: "commune"},
    )
    report = evaluate(data, TZ)
    first, second = report.tasks
    assert first.tally.total == 2  # leads only
    assert first.tally.counts[Verdict.DONE_ON_TIME] == 1
    assert first.tally.counts[Verdict.OVERDUE] == 1  # agency 2: nothing, deadline passed
    assert first.reports == 2 and first.versions == 2
    assert first.verdict is Verdict.OVERDUE
    # task 2 has no lead in scope: shown with its coordinator's verdict, counted apart
    assert second.leads == [] and not second.led and second.tally.total == 1
    assert second.verdict is Verdict.OVERDUE
    assert report.task_tally.total == 1 and report.agency_tally.total == 2
    assert report.coordinated_tally.total == 1
    assert report.coordinated_tally.counts[Verdict.OVERDUE] == 1
    assert report.coordinated_tally.overdue_reported == 1  # it reported «Đang thực hiện»
    assert report.coordinating_tally.total == 2  # agency 3 on tasks 1 and 2
    assert sum(t.total for t in report.by_kind.values()) == report.agency_tally.total
    assert set(report.by_kind) == {"department", "district"}
    assert [a.area.code for a in report.areas] == ["I", "II"]
    assert report.areas[1].task_tally.total == 0 and report.areas[1].coordinated_tally.total == 1
    late = {item.agency.code: item for item in report.late_agencies}
    assert set(late) == {"A2"}  # a coordinating agency is never "late" in the lead figures
    assert late["A2"].not_reported == 1
    assert late["A2"].max_days == (as_of - DEADLINE).days


def test_an_agency_view_and_the_whole_view_give_it_the_same_overdue_count():
    """Issue 9: Sở Tư pháp's own /tonghop said 51 overdue, the coordinator's 33 — the own
    view counted the tasks it only coordinates."""
    as_of = date(2025, 1, 15)
    tasks = [_task(1, DEADLINE), _task(2, DEADLINE), _task(3, DEADLINE)]
    leads, coordinators = {1: [1], 2: [2], 3: [2]}, {2: [1], 3: [1]}
    whole = evaluate(_data(tasks, leads, coordinators, [], as_of), TZ)
    own_data = _data(tasks, {1: [1]}, {2: [1], 3: [1]}, [], as_of)  # what the scope loads
    own = evaluate(own_data, TZ)
    in_whole = next(a for a in whole.late_agencies if a.agency.id == 1)
    in_own = next(a for a in own.late_agencies if a.agency.id == 1)
    assert in_whole.overdue == in_own.overdue == 1
    assert own.task_tally.total == 1 and own.coordinated_tally.total == 2


def test_a_task_reported_in_progress_past_its_deadline_is_overdue_and_says_why():
    report = evaluate(
        _data(
            [_task(1, DEADLINE)],
            {1: [1]},
            {},
            [rep("in_progress", at(date(2025, 1, 2)))],
            date(2025, 1, 3),
        ),
        TZ,
    )
    assert report.task_tally.counts[Verdict.OVERDUE] == 1
    assert report.task_tally.overdue_reported == 1 and report.agency_tally.overdue_reported == 1
    from messages.reports.summary import summary_text

    assert "có 1 nhiệm vụ đã báo cáo tiến độ nhưng chưa hoàn thành khi hết hạn" in summary_text(
        report
    )


@pytest.mark.parametrize("role", [UserRole.COORDINATOR, UserRole.ADMIN])
def test_staff_get_the_whole_report_as_asked(role):  # leaders: tests/core/test_report_scope.py
    asked = Scope(area_code="III", agency_kind="commune")
    assert scope_for(role, "SNV", asked) == asked
    assert scope_for(role.value, None, Scope(agency_code="STP")).agency_code == "STP"


def test_a_focal_point_gets_only_their_own_agency_whatever_they_ask():
    assert scope_for(UserRole.FOCAL, "STP", Scope()).agency_code == "STP"
    assert scope_for("focal", "STP", Scope(agency_code="SNV", area_code="II")) == Scope(
        agency_code="STP", area_code="II"
    )


@pytest.mark.parametrize(
    ("role", "agency", "reason"),
    [(UserRole.FOCAL, None, "no_agency"), (None, None, "role"), ("guest", "SNV", "role")],
)
def test_anyone_else_is_refused(role, agency, reason):
    with pytest.raises(ReportRefused) as refused:
        scope_for(role, agency, Scope())
    assert refused.value.reason == reason
