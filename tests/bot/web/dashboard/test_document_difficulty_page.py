"""Round documents (Đạt / Trả lại) and difficulties (an answer) on the dashboard's agency page,
on SQLite and PostgreSQL: the decision is the `/duyet` kind's, so the document's status or the
report's answer, the audit row and the focal point's message through the outbox are those of
chat, and the chat queue no longer holds the item. A focal point, a forged or another agency's
id, a missing reason or answer, a second decision: a Vietnamese page and nothing changes."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from core.model import ReportStatus, UserRole
from messages.review import queue_for
from storage.db import transaction
from storage.tables.round_documents import RoundSubmission
from storage.tables.shared import AuditLog, ButtonToken, Outbox, StatusReport
from tests.bot.web.dashboard.support import dashboard_client, dashboard_web
from tests.bot.web.support import contact, sign_in, signin_link
from tests.storage.review.test_queue_kinds import send_document
from tests.storage.review.test_review import file_report
from tests.support.reports import TZ

MON = datetime(2024, 7, 1, 3, 0, tzinfo=UTC)  # the document round of the seed is open


def csrf_of(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    return found.group(1) if found else ""


def waiting(engine) -> set[tuple[str, str]]:
    """What `/duyet` in chat would go through: the same queue, read from the same store."""
    with transaction(engine) as session:
        queue = queue_for(session, TZ)
        return {(i.kind, i.key) for kind in queue for i in kind.waiting(100)}


def outbox_of(engine, contact_id: int) -> list[Outbox]:
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.contact_id == contact_id)).all()
        return sorted(rows, key=lambda o: o.id or 0)


def text_of(notice: Outbox) -> str:
    return str(json.loads(notice.payload)["text"])


def audits(engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(a.action, a.outcome) for a in session.exec(select(AuditLog)).all()]


async def test_a_coordinator_accepts_and_returns_round_documents_on_the_agency_page(any_engine):
    engine = any_engine
    focal = contact(engine, 8501, "STP", UserRole.FOCAL, "Đầu mối STP")
    first = send_document(engine, focal, MON)
    web = dashboard_web(engine)
    coordinator = contact(engine, 8502, "SNV", UserRole.COORDINATOR, "Chị Hoa")
    async with dashboard_client(web) as client:
        await sign_in(client, signin_link(web, coordinator))
        shown = await client.get("/co-quan/STP")
        assert shown.status_code == 200 and "Văn bản chờ duyệt (1)" in shown.text
        assert f'id="document-{first}"' in shown.text and "Văn bản số 125/KH-STP" in shown.text
        assert "ke-hoach.pdf</a> <span class=\"note\">(1 KB)</span>" in shown.text  # as chat says
        token = csrf_of(shown.text)
        opened = await client.get(f"/van-ban/{first}")
        form = {"csrf": token, "submission_id": first}
        no_reason = await client.post("/co-quan/STP/van-ban", data={**form, "action": "return"})
        other_agency = await client.post("/co-quan/STC/van-ban", data={**form, "action": "accept"})
        forged_id = await client.post(
            "/co-quan/STP/van-ban", data={**form, "submission_id": "9x", "action": "accept"}
        )
        unknown_id = await client.post(
            "/co-quan/STP/van-ban", data={**form, "submission_id": 99999, "action": "accept"}
        )
        accepted = await client.post("/co-quan/STP/van-ban", data={**form, "action": "accept"})
        twice = await client.post(
            "/co-quan/STP/van-ban", data={**form, "action": "return", "ly_do": "Muộn"}
        )
        after = await client.get("/co-quan/STP")
        confirmed = await client.get(accepted.headers["location"])
        made_up = await client.get("/co-quan/STP?xong=<b>Đã duyệt</b>")
    assert 'id="decided"' in confirmed.text and "Đã duyệt «Đạt» văn bản" in confirmed.text
    assert 'id="decided"' not in after.text  # said once, after the decision
    assert 'id="decided"' not in made_up.text and "<b>Đã duyệt" not in made_up.text
    assert opened.status_code == 200 and opened.content.startswith(b"%PDF")
    assert "ke-hoach.pdf" in opened.headers["content-disposition"]
    assert no_reason.status_code == 409 and "cần ghi lý do" in no_reason.text
    assert other_agency.status_code == 404 and forged_id.status_code == 404
    assert unknown_id.status_code == 404 and "Không tìm thấy" in unknown_id.text
    assert accepted.status_code == 303 and accepted.headers["location"].endswith("#van-ban")
    assert twice.status_code == 409 and "đã được duyệt trước đó" in twice.text
    assert "Văn bản chờ duyệt" not in after.text
    assert ("document", str(first)) not in waiting(engine)
    with Session(engine) as session:
        row = session.get(RoundSubmission, first)
        assert row is not None and (row.status, row.status_reason) == ("accepted", "")
    [notice] = outbox_of(engine, focal)
    assert notice.kind == "document_accepted"
    assert "Văn bản số 125/KH-STP" in text_of(notice) and "Đạt" in text_of(notice)
    done = audits(engine)
    assert ("web.document_accept", "ok") in done
    assert ("web.document_return", "refused") in done  # no reason; decided already

    # a later version returned with its reason: «Gửi lại văn bản» as in chat
    second = send_document(engine, focal, MON + timedelta(days=1), "126/KH-STP")
    async with dashboard_client(web) as client:
        await sign_in(client, signin_link(web, coordinator))
        shown = await client.get("/co-quan/STP")
        assert f'id="document-{second}"' in shown.text
        returned = await client.post(
            "/co-quan/STP/van-ban",
            data={
                "csrf": csrf_of(shown.text),
                "submission_id": second,
                "action": "return",
                "ly_do": "Chưa có chữ ký, đóng dấu",
            },
        )
    assert returned.status_code == 303
    with Session(engine) as session:
        row = session.get(RoundSubmission, second)
        assert row is not None and row.status == "returned"
        assert row.status_reason == "Chưa có chữ ký, đóng dấu"
        tokens = session.exec(select(ButtonToken.action)).all()
    notice = outbox_of(engine, focal)[-1]
    assert notice.kind == "document_returned" and "Chưa có chữ ký, đóng dấu" in text_of(notice)
    assert "round_document" in tokens  # the focal point's «Gửi lại văn bản»
    assert ("web.document_return", "ok") in audits(engine)


async def test_a_focal_point_neither_sees_nor_decides_a_document_but_may_open_its_own(any_engine):
    engine = any_engine
    focal = contact(engine, 8511, "STP", UserRole.FOCAL, "Đầu mối STP")
    other = contact(engine, 8512, "STC", UserRole.FOCAL, "Đầu mối STC")
    document = send_document(engine, focal, MON)
    web = dashboard_web(engine)
    async with dashboard_client(web) as client:
        await sign_in(client, signin_link(web, focal))
        own = await client.get("/co-quan/STP")
        opened = await client.get(f"/van-ban/{document}")
        tried = await client.post(
            "/co-quan/STP/van-ban",
            data={"csrf": csrf_of(own.text), "submission_id": document, "action": "accept"},
        )
    async with dashboard_client(web) as client:
        await sign_in(client, signin_link(web, other))
        foreign = await client.get(f"/van-ban/{document}")
    assert own.status_code == 200 and "Văn bản chờ duyệt" not in own.text
    assert opened.status_code == 200
    assert tried.status_code == 403 and foreign.status_code == 403
    assert ("document", str(document)) in waiting(engine)
    with Session(engine) as session:
        row = session.get(RoundSubmission, document)
        assert row is not None and row.status == "submitted"
    assert outbox_of(engine, focal) == []
    assert sum(1 for a in audits(engine) if a == ("web.forbidden", "refused")) >= 2


async def test_a_coordinator_answers_a_difficulty_on_the_agency_page(any_engine):
    engine = any_engine
    focal = contact(engine, 8521, "STP", UserRole.FOCAL, "Đầu mối STP")
    saved = file_report(engine, "STP", "II.1.a", ReportStatus.BLOCKED, "Thiếu kinh phí", MON)
    key = ("difficulty", str(saved.report_id))
    assert key in waiting(engine)
    web = dashboard_web(engine)
    coordinator = contact(engine, 8522, "SNV", UserRole.COORDINATOR, "Chị Hoa")
    async with dashboard_client(web) as client:
        await sign_in(client, signin_link(web, focal))
        own = await client.get("/co-quan/STP")
        as_focal = await client.post(
            "/co-quan/STP/vuong-mac",
            data={
                "csrf": csrf_of(own.text),
                "report_id": saved.report_id,
                "action": "answer",
                "tra_loi": "Tự trả lời",
            },
        )
    async with dashboard_client(web) as client:
        await sign_in(client, signin_link(web, coordinator))
        shown = await client.get("/co-quan/STP")
        assert "Khó khăn, vướng mắc chờ trả lời (1)" in shown.text
        assert f'id="answer-{saved.report_id}"' in shown.text
        form = {"csrf": csrf_of(shown.text), "report_id": saved.report_id, "action": "answer"}
        blank = await client.post(
            "/co-quan/STP/vuong-mac", data={**form, "tra_loi": " \u200b\u2060 \n"}
        )
        too_long = await client.post("/co-quan/STP/vuong-mac", data={**form, "tra_loi": "a" * 3001})
        forged = await client.post(
            "/co-quan/STP/vuong-mac", data={**form, "csrf": "sai", "tra_loi": "Trả lời"}
        )
        other_agency = await client.post(
            "/co-quan/STC/vuong-mac", data={**form, "tra_loi": "Trả lời"}
        )
        decomposed = unicodedata.normalize("NFD", "Sở Tài chính bố trí kinh phí")
        assert decomposed != "Sở Tài chính bố trí kinh phí"
        answered = await client.post(
            "/co-quan/STP/vuong-mac",
            data={**form, "tra_loi": f"  {decomposed}\x00\u202e\r\nHạn: quý III.  "},
        )
        twice = await client.post("/co-quan/STP/vuong-mac", data={**form, "tra_loi": "Lần hai"})
        after = await client.get("/co-quan/STP")
    assert as_focal.status_code == 403 and forged.status_code == 403
    assert blank.status_code == 409 and "Cần nhập nội dung trả lời" in blank.text
    assert too_long.status_code == 409 and "dài quá 3.000 ký tự" in too_long.text
    assert other_agency.status_code == 404
    assert answered.status_code == 303
    assert twice.status_code == 409 and "đã được trả lời trước đó" in twice.text
    expected = "Sở Tài chính bố trí kinh phí\nHạn: quý III."
    with Session(engine) as session:
        row = session.get(StatusReport, saved.report_id)
        assert row is not None and row.answer == expected
        assert answered.headers["location"].endswith(f"#task-{row.task_id}")
    assert "Khó khăn, vướng mắc chờ trả lời" not in after.text
    assert f'id="answer-{saved.report_id}"' not in after.text
    assert "Sở Tài chính bố trí kinh phí" in after.text
    assert key not in waiting(engine)
    [notice] = outbox_of(engine, focal)
    assert notice.kind == "difficulty_answer"
    assert "Trả lời vướng mắc về nhiệm vụ II.1.a" in text_of(notice)
    assert "Sở Tài chính bố trí kinh phí" in text_of(notice)
    done = audits(engine)
    assert ("web.difficulty_answer", "ok") in done
    assert sum(1 for a in done if a == ("web.difficulty_answer", "refused")) == 3


async def test_evidence_opens_for_whoever_may_see_its_agency_and_no_one_else(any_engine):
    from tests.bot.web.test_links_any_worker import PDF, evidence

    engine = any_engine
    file_id = evidence(engine)  # a report of Sở Nội vụ (SNV) with one evidence file
    web = dashboard_web(engine)
    coordinator = contact(engine, 8511, "SNV", UserRole.COORDINATOR, "Chị Hoa")
    own = contact(engine, 8512, "SNV", UserRole.FOCAL, "Đầu mối SNV")
    other = contact(engine, 8513, "STP", UserRole.FOCAL, "Đầu mối STP")
    opened: dict[str, tuple[int, bytes, str]] = {}
    for who, person in (("coordinator", coordinator), ("own", own), ("other", other)):
        async with dashboard_client(web) as client:
            await sign_in(client, signin_link(web, person))
            got = await client.get(f"/minh-chung/{file_id}")
            opened[who] = (got.status_code, got.content, got.headers.get("content-disposition", ""))
            if who == "coordinator":
                forged = await client.get("/minh-chung/12x")
                unknown = await client.get("/minh-chung/999999")
    assert opened["coordinator"][:2] == (200, PDF) and "quyet-dinh.pdf" in opened["coordinator"][2]
    assert opened["own"][:2] == (200, PDF)
    assert opened["other"][0] == 403 and PDF not in opened["other"][1]
    assert forged.status_code == 404 and unknown.status_code == 404
