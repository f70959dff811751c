"""Chấp thuận / Từ chối an extension request on the dashboard's agency page: coordinators
only, with the CSRF token, a refusal with its reason; the decision is the chat's (`/duyet`'s
kind): the deadline moves, the focal point is told through the outbox; every attempt audited."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import Session, select

from core.extensions import ExtensionDraft
from core.model import UserRole
from messages.extensions import ExtensionService
from storage.db import transaction
from storage.extensions import approved
from storage.tables.extensions import ExtensionRequest
from storage.tables.shared import Agency, AuditLog, Outbox, Task
from tests.bot.web.dashboard.support import dashboard_client, dashboard_web
from tests.bot.web.support import contact, sign_in, signin_link
from tests.support.reports import NOW, TZ


def ask(engine, focal: int, ref: str, new_date: date) -> int:
    with transaction(engine) as session:
        task = session.exec(select(Task).where(Task.ref == ref)).one()
        task.due_date = date(2025, 4, 20)
        session.add(task)
        session.flush()
        agency_id = session.exec(select(Agency.id).where(Agency.code == "STP")).one()
        draft = ExtensionDraft(agency_id, task.id, focal, new_date, "Chờ hướng dẫn của Bộ")
        return ExtensionService(session, TZ).request(draft, NOW).id


def csrf_of(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    return found.group(1) if found else ""


async def test_a_coordinator_decides_extension_requests_on_the_agency_page(engine):
    focal = contact(engine, 8401, "STP", UserRole.FOCAL, "Đầu mối STP")
    first = ask(engine, focal, "III.4.1", date(2025, 5, 31))
    second = ask(engine, focal, "II.1.a", date(2025, 6, 30))
    web = dashboard_web(engine)
    async with dashboard_client(web) as client:
        await sign_in(client, signin_link(web, focal))
        own = await client.get("/co-quan/STP")
        assert own.status_code == 200 and f'id="extension-{first}"' not in own.text
        tried = await client.post(
            "/co-quan/STP/gia-han",
            data={"csrf": csrf_of(own.text), "request_id": first, "action": "approve"},
        )
        assert tried.status_code == 403
    coordinator = contact(engine, 8402, "SNV", UserRole.COORDINATOR, "Chị Hoa")
    async with dashboard_client(web) as client:
        await sign_in(client, signin_link(web, coordinator))
        shown = await client.get("/co-quan/STP")
        assert (
            f'id="extension-{first}"' in shown.text
            and "Đề nghị gia hạn chờ quyết định" in shown.text
        )
        assert "xin gia hạn đến <strong>31/05/2025</strong>" in shown.text
        token = csrf_of(shown.text)
        forged = await client.post(
            "/co-quan/STP/gia-han", data={"csrf": "sai", "request_id": first, "action": "approve"}
        )
        other_agency = await client.post(
            "/co-quan/STC/gia-han", data={"csrf": token, "request_id": first, "action": "approve"}
        )
        approved_ = await client.post(
            "/co-quan/STP/gia-han", data={"csrf": token, "request_id": first, "action": "approve"}
        )
        no_reason = await client.post(
            "/co-quan/STP/gia-han", data={"csrf": token, "request_id": second, "action": "reject"}
        )
        rejected = await client.post(
            "/co-quan/STP/gia-han",
            data={"csrf": token, "request_id": second, "action": "reject", "ly_do": "Hạn cố định"},
        )
        twice = await client.post(
            "/co-quan/STP/gia-han", data={"csrf": token, "request_id": first, "action": "reject",
                                          "ly_do": "muộn"},
        )  # fmt: skip
        after = await client.get("/co-quan/STP")
    assert forged.status_code == 403 and other_agency.status_code == 404
    assert approved_.status_code == 303 and rejected.status_code == 303
    assert no_reason.status_code == 409 and twice.status_code == 409
    assert "Đề nghị gia hạn chờ quyết định" not in after.text
    assert "gia hạn đến 31/05/2025" in after.text  # the task's new deadline on the same page
    with Session(engine) as session:
        rows = session.exec(select(ExtensionRequest).order_by(ExtensionRequest.id)).all()
        assert [(r.status, r.refusal) for r in rows] == [
            ("approved", ""), ("rejected", "Hạn cố định"),
        ]  # fmt: skip
        assert [e.new_date for e in approved(session).values()] == [date(2025, 5, 31)]
        told = session.exec(select(Outbox).where(Outbox.contact_id == focal)).all()
        assert len([o for o in told if o.kind == "extension"]) == 2
        audits = session.exec(select(AuditLog.action, AuditLog.outcome)).all()
    assert ("web.extension_approve", "ok") in audits and ("web.extension_reject", "ok") in audits
    assert ("web.extension_reject", "refused") in audits  # no reason; decided already
    assert sum(1 for a in audits if a == ("web.forbidden", "refused")) >= 2
