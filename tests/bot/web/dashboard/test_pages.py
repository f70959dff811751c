"""Dashboard pages through the ASGI client, signed in by the web helper's own sign-in links."""

from __future__ import annotations

import io
import re
from contextlib import asynccontextmanager

import openpyxl
from sqlmodel import Session, select

import tests.support.reports as report_support
from core.model import UserRole
from core.report_model import Scope
from messages.reports.json_export import report_dict
from storage.tables.shared import Agency, AuditLog, Outbox, Task
from tests.bot.web.dashboard.support import dashboard_client, dashboard_web
from tests.bot.web.support import contact, sign_in, signin_link
from tests.support.reports import NOW, compiled

demo_engine = report_support.demo_engine
demo_template = report_support.demo_template


def figures(html: str, table: str) -> list[list[int]]:
    """The numbers of one tally table on the page, row by row ("4.121" is 4121)."""
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    rows = body.split("<tbody>", 1)[1].split("</tr>")
    return [
        [int(n.replace(".", "")) for n in re.findall(r'class="num[^"]*"[^>]*>([\d.]+)<', row)]
        for row in rows
        if "<th" in row
    ]


def expected_rows(tallies: list[dict]) -> list[list[int]]:
    order = ["done_on_time", "done_late", "in_progress", "overdue", "not_reported"]
    return [[t["total"], *(t[v] for v in order)] for t in tallies]


@asynccontextmanager
async def signed_in(web, user: int, agency: str | None, role: UserRole):
    """A browser signed in by the web companion's own link and «Đăng nhập» button."""
    who = contact(web.engine, user, agency, role, f"Người {user}")
    async with dashboard_client(web) as client:
        answer = await sign_in(client, signin_link(web, who))
        assert answer.status_code == 303, answer.text
        yield client


async def test_overview_shows_the_same_counts_as_the_json_report(demo_engine):
    web = dashboard_web(demo_engine)
    expected = report_dict(compiled(demo_engine, Scope(), now=NOW))
    async with signed_in(web, 8101, "SNV", UserRole.COORDINATOR) as browser:
        page = await browser.get("/tong-quan")
    assert page.status_code == 200, page.text
    html = page.text
    totals = expected["totals"]
    assert figures(html, "task-tally") == expected_rows([totals["tasks"], totals["lead_pairs"]])
    assert figures(html, "by-area") == expected_rows([a["lead_pairs"] for a in expected["areas"]])
    assert figures(html, "by-kind") == expected_rows(list(expected["kinds"].values()))
    assert f'id="tasks-total">{totals["tasks"]["total"]}<' in html


async def test_overview_of_one_area_and_one_kind_matches_the_json_report_of_that_scope(demo_engine):
    web = dashboard_web(demo_engine)
    scope = Scope(area_code="III", agency_kind="district")
    expected = report_dict(compiled(demo_engine, scope, now=NOW))
    async with signed_in(web, 8102, "SNV", UserRole.COORDINATOR) as browser:
        page = await browser.get("/tong-quan?linh_vuc=III&loai=district")
    totals = expected["totals"]
    assert figures(page.text, "task-tally") == expected_rows(
        [totals["tasks"], totals["lead_pairs"]]
    )
    assert figures(page.text, "by-kind") == expected_rows(list(expected["kinds"].values()))


async def test_a_focal_points_overview_is_their_agencys_part_of_the_report(demo_engine):
    web = dashboard_web(demo_engine)
    expected = report_dict(compiled(demo_engine, Scope(agency_code="STP"), now=NOW))
    async with signed_in(web, 8103, "STP", UserRole.FOCAL) as browser:
        page = await browser.get("/tong-quan?co_quan=SNV")  # asking for another agency
    totals = expected["totals"]
    assert figures(page.text, "task-tally") == expected_rows(
        [totals["tasks"], totals["lead_pairs"]]
    )


async def test_the_matrix_filtered_to_one_area_shows_only_that_areas_tasks(demo_engine):
    web = dashboard_web(demo_engine)
    with Session(demo_engine) as session:
        refs = set(session.exec(select(Task.ref).where(Task.ref.startswith("II."))).all())  # type: ignore[attr-defined]
    async with signed_in(web, 8104, "SNV", UserRole.COORDINATOR) as browser:
        page = await browser.get("/ma-tran?linh_vuc=II")
        overdue = await browser.get("/ma-tran?trang_thai=overdue")
    assert page.status_code == 200
    header = page.text.split('id="matrix"', 1)[1].split("</thead>", 1)[0]
    shown = set(re.findall(r'title="[^"]*">([^<]+)</th>', header))
    assert shown and shown <= refs
    cells = set(re.findall(r'data-verdict="(\w+)"', overdue.text.split('id="matrix"', 1)[1]))
    assert cells == {"overdue"}


async def test_the_matrix_is_paged_by_agency(demo_engine):
    web = dashboard_web(demo_engine)
    async with signed_in(web, 8105, "SNV", UserRole.COORDINATOR) as browser:
        first = await browser.get("/ma-tran")
        second = await browser.get("/ma-tran?trang=2")
    with Session(demo_engine) as session:
        agencies = len(session.exec(select(Agency.id)).all())
    rows_1 = re.findall(r'<tr data-agency="([^"]+)"', first.text)
    rows_2 = re.findall(r'<tr data-agency="([^"]+)"', second.text)
    assert len(rows_1) == min(25, agencies) and not set(rows_1) & set(rows_2)
    assert rows_1 == sorted(rows_1)


async def test_a_focal_point_gets_a_403_for_another_agency_and_it_is_audited(demo_engine):
    web = dashboard_web(demo_engine)
    async with signed_in(web, 8106, "STP", UserRole.FOCAL) as browser:
        own = await browser.get("/co-quan/STP")
        other = await browser.get("/co-quan/SNV")
    assert own.status_code == 200 and "Nhiệm vụ (" in own.text
    assert other.status_code == 403 and "Không có quyền" in other.text
    with Session(demo_engine) as session:
        refused = session.exec(select(AuditLog).where(AuditLog.action == "web.forbidden")).all()
    assert [a.target for a in refused] == ["agency:SNV"]


async def test_anyone_signed_out_is_sent_to_sign_in(demo_engine):
    web = dashboard_web(demo_engine)
    async with dashboard_client(web) as browser:
        page = await browser.get("/ma-tran")
    assert page.status_code == 401 and "/web" in page.text


async def test_the_workbook_downloaded_counts_the_same_tasks_as_the_json_report(demo_engine):
    web = dashboard_web(demo_engine)
    expected = report_dict(compiled(demo_engine, Scope(area_code="II"), now=NOW))
    async with signed_in(web, 8107, "SNV", UserRole.COORDINATOR) as browser:
        got = await browser.get("/tai-ve/xlsx?linh_vuc=II")
    assert got.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(got.content), read_only=True)
    text = " ".join(
        str(c)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for c in row
        if c
    )
    for task in expected["tasks"]:
        assert task["ref"] in text


async def test_nhac_writes_the_same_broadcast_as_nhacnho_and_needs_the_csrf_token(demo_engine):
    web = dashboard_web(demo_engine)
    async with signed_in(web, 8108, "SNV", UserRole.COORDINATOR) as browser:
        listed = await browser.get("/chua-bao-cao")
        assert listed.status_code == 200
        code = re.findall(r'name="co_quan" value="([^"]+)"', listed.text)[0]
        round_code = re.findall(r'name="ky" value="([^"]+)"', listed.text)[0]
        focal = contact(demo_engine, 8109, code, UserRole.FOCAL, "Đầu mối chưa báo cáo")
        forged = await browser.post(
            "/chua-bao-cao/nhac", data={"csrf": "sai", "ky": round_code, "co_quan": code}
        )
        csrf = listed.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        sent = await browser.post(
            "/chua-bao-cao/nhac", data={"csrf": csrf, "ky": round_code, "co_quan": code}
        )
    assert forged.status_code == 403
    assert sent.status_code == 200 and 'id="nudged"' in sent.text
    with Session(demo_engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.kind == "broadcast")).all()
        nudges = session.exec(select(AuditLog).where(AuditLog.action == "web.nudge")).all()
    assert [r.contact_id for r in rows if r.contact_id == focal] == [focal]
    assert [a.outcome for a in nudges] == ["ok"]


async def test_a_focal_point_may_not_nudge(demo_engine):
    web = dashboard_web(demo_engine)
    async with signed_in(web, 8110, "STP", UserRole.FOCAL) as browser:
        listed = await browser.get("/chua-bao-cao")
        csrf = listed.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        sent = await browser.post("/chua-bao-cao/nhac", data={"csrf": csrf, "co_quan": "STP"})
    assert sent.status_code == 403
    with Session(demo_engine) as session:
        assert not session.exec(select(Outbox).where(Outbox.kind == "broadcast")).all()


async def test_the_overview_follows_a_new_report_at_once(demo_engine):
    from core.model import AssignmentRole
    from storage.db import transaction
    from storage.reports.evaluation_store import refresh_after_report
    from storage.tables.shared import Assignment, StatusReport
    from tests.support.reports import TZ

    web = dashboard_web(demo_engine)
    async with signed_in(web, 8111, "SNV", UserRole.COORDINATOR) as browser:
        before = figures((await browser.get("/tong-quan")).text, "task-tally")
        with transaction(demo_engine) as session:
            for task_id, agency_id in session.exec(
                select(Assignment.task_id, Assignment.agency_id).where(
                    Assignment.role == AssignmentRole.LEAD.value
                )
            ).all()[:40]:
                session.add(
                    StatusReport(
                        receipt=f"BC-T-{task_id}-{agency_id}",
                        task_id=task_id,
                        agency_id=agency_id,
                        version=99,
                        status="done",
                        submitted_at=NOW,
                    )
                )
                session.flush()
                refresh_after_report(session, task_id, agency_id, TZ, NOW)
        after = figures((await browser.get("/tong-quan")).text, "task-tally")
    expected = report_dict(compiled(demo_engine, Scope(), now=NOW))["totals"]
    assert after != before
    assert after == expected_rows([expected["tasks"], expected["lead_pairs"]])


async def test_the_matrix_of_a_closed_round_shows_that_rounds_verdicts(demo_engine):
    """Closed rounds are not kept by the daily job: the first page asking stores the view."""
    from sqlalchemy import update

    from storage.db import transaction
    from storage.tables.shared import ReportingRound

    code = "BC-QUY-III-2024"
    with transaction(demo_engine) as session:
        session.execute(
            update(ReportingRound).where(ReportingRound.code == code).values(status="closed")
        )
    web = dashboard_web(demo_engine)
    report = compiled(demo_engine, Scope(round_code=code), now=NOW)
    agencies = report.data.agencies
    expected = {
        (agencies[e.agency_id].code, result.task.ref): e.verdict.value
        for result in report.tasks
        for e in (*result.leads, *result.coordinators)
    }
    async with signed_in(web, 8112, "SNV", UserRole.COORDINATOR) as browser:
        page = await browser.get(f"/ma-tran?ky={code}")
    assert page.status_code == 200
    shown = {
        (agency, ref): verdict
        for agency, row in re.findall(r'<tr data-agency="([^"]+)">(.*?)</tr>', page.text)
        for verdict, ref in re.findall(r'data-verdict="(\w+)" title="([^:"]+):', row)
    }
    assert shown and all(expected[key] == verdict for key, verdict in shown.items())
    assert len({agency for agency, _ in shown}) == min(25, len({a for a, _ in expected}))


async def test_the_overviews_chart_is_a_picture_of_the_viewers_scope(demo_engine):
    web = dashboard_web(demo_engine)
    async with signed_in(web, 8131, "SNV", UserRole.COORDINATOR) as browser:
        page = await browser.get("/tong-quan")
        chart = await browser.get("/tong-quan/bieu-do.png?linh_vuc=II")
        wrong = await browser.get("/tong-quan/bieu-do.png?linh_vuc=XIV")
    assert "/tong-quan/bieu-do.png" in page.text
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.content) > 10_000
    assert wrong.status_code == 400
    async with dashboard_client(web) as stranger:
        refused = await stranger.get("/tong-quan/bieu-do.png")
    assert refused.status_code == 401 and not refused.content.startswith(b"\x89PNG")
