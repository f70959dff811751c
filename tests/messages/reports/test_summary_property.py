"""One truth: random plans, reports and dates, and every view's model gives the same counts.

Hypothesis builds plans (areas, tasks with or without a deadline, lead and coordinating
agencies of every kind), report versions at random moments and an evaluation date; the chat
summary's model, the JSON export, /nhiemvu's list and each agency's own view are compared
with one another and with a plain recount of the per-task verdicts. An agency's own view must
give it the same figures as the whole plan's view (issue 9: 51 overdue against 33). A few
cases are rendered to real files (workbook, Word report, chart) and read back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import openpyxl
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.evaluation import agency_tasks, evaluate
from core.model import AgencyKind, ReportStatus
from core.report_model import (
    AgencyInfo,
    AreaInfo,
    CompiledReport,
    Letterhead,
    PlanInfo,
    ReportData,
    ReportInfo,
    Scope,
    TaskInfo,
    Verdict,
)
from messages.reports.chart import write_chart
from messages.reports.docx import write_report_docx
from messages.reports.json_export import report_dict
from messages.reports.summary import summary_model, summary_text
from messages.reports.xlsx import write_workbook
from tests.messages.reports.test_outputs import (
    docx_counts,
    json_counts,
    summary_counts,
    xlsx_counts,
)
from tests.support.reports import TZ

AREAS = [AreaInfo(1, "I", "Cải cách thể chế", 0), AreaInfo(2, "II", "Cải cách TTHC", 1)]
START = date(2024, 1, 1)
KINDS = [k.value for k in AgencyKind]
STATUSES = [s.value for s in ReportStatus]


@st.composite
def plans(draw: st.DrawFn, always_led: bool = False) -> ReportData:
    n_agencies = draw(st.integers(1, 6))
    agencies = {
        i: AgencyInfo(i, f"A{i}", f"Cơ quan {i}", draw(st.sampled_from(KINDS)))
        for i in range(1, n_agencies + 1)
    }
    ids = list(agencies)
    tasks, leads, coordinators, reports = [], {}, {}, []
    report_id = 0
    for task_id in range(1, draw(st.integers(1, 8)) + 1):
        area = draw(st.sampled_from(AREAS))
        due = draw(st.none() | st.integers(0, 500).map(lambda d: START + timedelta(days=d)))
        tasks.append(
            TaskInfo(
                task_id,
                f"{area.code}.{task_id}",
                area.id,
                task_id,
                f"Nhiệm vụ {task_id}",
                "Năm 2024",
                "date" if due else "recurring",
                due,
                "",
                "",
                "",
            )
        )
        lead = draw(st.lists(st.sampled_from(ids), unique=True, min_size=1 if always_led else 0))
        rest = [a for a in ids if a not in lead]
        coordinating = draw(st.lists(st.sampled_from(rest), unique=True)) if rest else []
        if lead:
            leads[task_id] = lead
        if coordinating:
            coordinators[task_id] = coordinating
        for agency_id in lead + coordinating:
            for version in range(1, draw(st.integers(0, 3)) + 1):
                report_id += 1
                day = START + timedelta(days=draw(st.integers(0, 600)))
                moment = datetime.combine(day, time(draw(st.integers(0, 23))), tzinfo=TZ)
                reports.append(
                    ReportInfo(
                        report_id,
                        f"BC-{report_id}",
                        task_id,
                        agency_id,
                        None,
                        "",
                        version,
                        draw(st.sampled_from(STATUSES)),
                        "kết quả",
                        None,
                        "",
                        moment.astimezone(UTC),
                    )
                )
    as_of = START + timedelta(days=draw(st.integers(0, 700)))
    cutoff = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=TZ)
    return ReportData(
        plan=PlanInfo(1, "KH-TEST", "Kế hoạch thử", 2024, "UBND tỉnh Quảng Nam"),
        round=None,
        scope=Scope(as_of=as_of),
        as_of=as_of,
        generated_at=datetime(2025, 1, 1, tzinfo=UTC),
        areas=AREAS,
        tasks=tasks,
        agencies=agencies,
        leads=leads,
        coordinators=coordinators,
        reports=[r for r in reports if r.submitted_at < cutoff],  # what the loader keeps
    )


def own_part(data: ReportData, agency_id: int) -> ReportData:
    """What storage loads for one agency's scope: its assignments and its reports only."""
    leads = {t: [agency_id] for t, ids in data.leads.items() if agency_id in ids}
    coordinators = {t: [agency_id] for t, ids in data.coordinators.items() if agency_id in ids}
    mine = set(leads) | set(coordinators)
    return replace(
        data,
        scope=replace(data.scope, agency_code=data.agencies[agency_id].code),
        tasks=[t for t in data.tasks if t.id in mine],
        agencies={agency_id: data.agencies[agency_id]},
        leads=leads,
        coordinators=coordinators,
        reports=[r for r in data.reports if r.agency_id == agency_id and r.task_id in mine],
    )


def recount(report: CompiledReport) -> tuple[Counter, Counter, Counter]:
    """Led tasks, lead pairs and coordinating pairs by verdict, from the per-task results."""
    tasks, pairs, coordinating = Counter(), Counter(), Counter()
    for result in report.tasks:
        if result.led:
            tasks[result.verdict] += 1
        for e in result.leads:
            pairs[e.verdict] += 1
        for e in result.coordinators:
            coordinating[e.verdict] += 1
    return tasks, pairs, coordinating


def as_counter(tally) -> Counter:
    return Counter({v: n for v, n in tally.counts.items() if n})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_every_view_gives_the_same_counts(data):
    whole = evaluate(data, TZ)
    tasks, pairs, coordinating = recount(whole)
    model = summary_model(whole)
    payload = report_dict(whole)
    # the chat summary's model and the JSON export hold the one evaluation's numbers
    assert as_counter(model["tasks"]) == tasks
    assert as_counter(model["pairs"]) == pairs
    assert as_counter(model["coordinating"]) == coordinating
    for key, tally in (
        ("tasks", whole.task_tally),
        ("lead_pairs", whole.agency_tally),
        ("coordinated_tasks", whole.coordinated_tally),
        ("coordinating_pairs", whole.coordinating_tally),
    ):
        assert payload["totals"][key] == {
            "total": tally.total,
            **tally.as_dict(),
            "overdue_reported": tally.overdue_reported,
        }
    led_rows = Counter(t["verdict"] for t in payload["tasks"] if t["led"])
    assert led_rows == Counter({v.value: n for v, n in tasks.items()})
    # areas and kinds of agency (the chart's two panels) add up to the totals
    assert sum(a.task_tally.total for a in whole.areas) == whole.task_tally.total
    assert sum(a.agency_tally.total for a in whole.areas) == whole.agency_tally.total
    assert sum(t.total for t in whole.by_kind.values()) == whole.agency_tally.total
    assert sum(item.overdue for item in whole.late_agencies) == pairs[Verdict.OVERDUE]
    # a pair reported but overdue is explained, and never more than the overdue count
    assert 0 <= whole.agency_tally.overdue_reported <= pairs[Verdict.OVERDUE]

    late = {item.agency.id: item for item in whole.late_agencies}
    for agency_id in data.agencies:
        own = evaluate(own_part(data, agency_id), TZ)
        # the agency's own view gives it the whole view's figures
        assert own.late_agencies == ([late[agency_id]] if agency_id in late else [])
        led_by_me = [r for r in whole.tasks if any(e.agency_id == agency_id for e in r.leads)]
        assert own.task_tally.total == len(led_by_me)
        mine = Counter(e.verdict for r in led_by_me for e in r.leads if e.agency_id == agency_id)
        assert own.agency_tally.counts == {v: mine[v] for v in Verdict}
        only_coordinated = [
            r
            for r in whole.tasks
            if any(e.agency_id == agency_id for e in r.coordinators)
            and not any(e.agency_id == agency_id for e in r.leads)
        ]
        assert own.coordinated_tally.total == len(only_coordinated)
        # /nhiemvu from either view: the same words for the same tasks
        in_whole = [
            (i.result.task.id, i.evaluation.verdict) for i in agency_tasks(whole, agency_id)
        ]
        in_own = [(i.result.task.id, i.evaluation.verdict) for i in agency_tasks(own, agency_id)]
        assert in_whole == in_own
        overdue_led = sum(
            1
            for i in agency_tasks(own, agency_id)
            if i.lead and i.evaluation.verdict is Verdict.OVERDUE
        )
        assert overdue_led == (late[agency_id].overdue if agency_id in late else 0)
        # overdue first
        kinds = [i.evaluation.verdict is Verdict.OVERDUE for i in agency_tasks(own, agency_id)]
        assert kinds == sorted(kinds, reverse=True)


HEAD = Letterhead("UBND tỉnh Quảng Nam", "tỉnh Quảng Nam", "Sở Nội vụ", "SNV", "Quảng Nam")


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(always_led=True))
def test_rendered_files_say_what_the_models_say(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("truth")
    report = evaluate(data, TZ)
    write_workbook(report, folder / "r.xlsx", TZ)
    write_report_docx(report, HEAD, folder / "r.docx")
    write_chart(report, folder / "r.png")
    from_json = json_counts(report_dict(report))
    from_chat = summary_counts(summary_text(report))
    from_xlsx = xlsx_counts(openpyxl.load_workbook(folder / "r.xlsx"))
    from_docx = docx_counts(Document(str(folder / "r.docx")))
    assert from_chat == from_json == from_xlsx == from_docx
    assert (folder / "r.png").read_bytes().startswith(b"\x89PNG")
