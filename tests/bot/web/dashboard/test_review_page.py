"""Đạt / Trả lại on the dashboard's agency page: coordinators only, with the CSRF token, a
return with its reason; the focal point is told through the outbox, the stored evaluation
follows, every attempt is audited."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from core.flows.report import ReportDraft
from core.model import ReportStatus, UserRole
from storage.chat.reports import SqlReportStore
from storage.db import transaction
from storage.reports.evaluation_store import E
from storage.tables.shared import Agency, AuditLog, Outbox, StatusReport, Task
from tests.bot.web.dashboard.support import dashboard_client, dashboard_web
from tests.bot.web.support import contact, sign_in, signin_link
from tests.support.reports import NOW, TZ


def pending_report(engine) -> int:
    with transaction(engine) as session:
        agency_id = session.exec(select(Agency.id).where(Agency.code == "STP")).one()
        task_id = session.exec(select(Task.id).where(Task.ref == "III.4.1")).one()
        draft = ReportDraft(agency_id, task_id, None, ReportStatus.DONE, "Đã xong", None, "")  # type: ignore[arg-type]
        return SqlReportStore(session, TZ).save(draft, NOW, "web-1").report_id


async def test_a_coordinator_returns_a_report_on_the_agency_page_and_a_focal_point_cannot(engine):
    focal = contact(engine, 8301, "STP", UserRole.FOCAL, "Đầu mối STP")
    report_id = pending_report(engine)
    web = dashboard_web(engine)
    async with dashboard_client(web) as client:
        await sign_in(client, signin_link(web, focal))
        own = await client.get("/co-quan/STP")
        assert own.status_code == 200 and "Chờ duyệt" in own.text
        assert f'id="review-{report_id}"' not in own.text  # no form for a focal point
        csrf = re.search(r'name="csrf" value="([^"]+)"', own.text)
        token = csrf.group(1) if csrf else ""
        tried = await client.post(
            "/co-quan/STP/duyet", data={"csrf": token, "report_id": report_id, "action": "accept"}
        )
        assert tried.status_code == 403
    coordinator = contact(engine, 8302, "SNV", UserRole.COORDINATOR, "Chị Hoa")
    async with dashboard_client(web) as client:
        await sign_in(client, signin_link(web, coordinator))
        shown = await client.get("/co-quan/STP")
        assert f'id="review-{report_id}"' in shown.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', shown.text)
        assert csrf is not None
        form = {"report_id": report_id, "action": "return", "ly_do": ""}
        forged = await client.post("/co-quan/STP/duyet", data={**form, "csrf": "sai"})
        no_reason = await client.post("/co-quan/STP/duyet", data={**form, "csrf": csrf.group(1)})
        returned = await client.post(
            "/co-quan/STP/duyet",
            data={**form, "csrf": csrf.group(1), "ly_do": "Thiếu quyết định"},
        )
        after = await client.get("/co-quan/STP")
    assert forged.status_code == 403 and no_reason.status_code == 409
    assert returned.status_code == 303
    assert "Trả lại" in after.text and "lý do: Thiếu quyết định" in after.text
    with Session(engine) as session:
        row = session.get(StatusReport, report_id)
        assert row is not None and row.review == "returned"
        told = session.exec(select(Outbox).where(Outbox.kind == "review_returned")).all()
        assert [o.contact_id for o in told] == [focal]
        stored = session.exec(
            select(E.verdict).where(E.report_id == report_id, E.round_key == 0)
        ).one()
        assert stored not in ("done_on_time", "done_late")
        audits = session.exec(select(AuditLog.action, AuditLog.outcome)).all()
    assert ("web.review_return", "ok") in audits
    assert ("web.review_return", "refused") in audits  # the empty reason
    assert sum(1 for a in audits if a == ("web.forbidden", "refused")) >= 2
