"""The OA channel end to end: link, report by tapping buttons, a PDF sent as evidence;
forged signatures and forged button payloads refused; the messaging window and ZNS."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.channels.zalo_oa.client import OutsideWindow
from core.clock import FixedClock
from core.model import UserRole
from core.outgoing import Button, Document, Notice, Outgoing
from storage.chat.buttons import issue_button
from storage.tables.chat import ChatFlow
from storage.tables.shared import Assignment, AuditLog, Contact, EvidenceFile, StatusReport
from storage.zalo.window import set_phone
from tests.bot.channels.zalo_oa.support import connect, deliver, last_buttons, service_for
from tests.fakes.zalo.oa import FakeZaloOA
from tests.support.chat import T0, invite_code

USER, OTHER = "246845883529197922", "135734772418086811"
PDF = b"%PDF-1.4\n% bien ban kiem tra\n" + bytes(range(256)) * 20


def said(oa: FakeZaloOA, user: str, since: int) -> str:
    return "\n---\n".join(str(c.params["message"].get("text", "")) for c in oa.sent(user)[since:])


async def tap(service, oa: FakeZaloOA, user: str, label: str) -> str:
    buttons = last_buttons(oa, user)
    button = next((b for b in buttons if label in b["title"]), None)
    assert button is not None, f"no button {label!r}: {[b['title'] for b in buttons]}"
    assert button["type"] == "oa.query.hide"
    mark = len(oa.sent(user))
    assert await deliver(service, oa, user, text=button["payload"]) == 200
    return said(oa, user, mark)


async def text(service, oa: FakeZaloOA, user: str, words: str, expect: str) -> str:
    mark = len(oa.sent(user))
    assert await deliver(service, oa, user, text=words) == 200
    reply = said(oa, user, mark)
    assert expect in reply, f"{expect!r} not in reply to {words!r}:\n{reply}"
    return reply


async def test_oa_focal_point_reports_by_tapping_buttons_with_a_pdf(any_engine):
    engine = any_engine
    with FakeZaloOA() as oa:
        service = service_for(oa, engine)
        await connect(service, oa)
        code = invite_code(engine, "STP", UserRole.FOCAL)
        await text(service, oa, USER, code, "Đã liên kết")  # the bare code links too
        await text(service, oa, USER, "/baocao", "Chọn nhiệm vụ")
        await text(service, oa, USER, "III.4.1", "Tình trạng hiện nay")
        assert "mô tả ngắn" in await tap(service, oa, USER, "Đang thực hiện")
        await text(service, oa, USER, "Đã giải quyết đúng hạn 965/1.000 hồ sơ", "trên 95%")
        await text(service, oa, USER, "96,5", "Khó khăn")
        assert "Tài liệu kiểm chứng" in await tap(service, oa, USER, "Bỏ qua")
        mark = len(oa.sent(USER))
        url = oa.file_url(PDF, "bien-ban.pdf")
        attachment = {
            "type": "file",
            "payload": {"url": url, "name": "bien-ban.pdf", "size": str(len(PDF)), "type": "pdf"},
        }
        assert await deliver(service, oa, USER, "user_send_file", attachments=[attachment]) == 200
        assert "bien-ban.pdf" in said(oa, USER, mark)
        oa.files.clear()  # the temporary URL is gone: the bytes were fetched at once
        assert "Xem lại báo cáo" in await tap(service, oa, USER, "Xong")
        reply = await tap(service, oa, USER, "Gửi")
        receipt = re.search(r"Số biên nhận: (BC-2024-\d{6})", reply).group(1)
        with Session(engine) as session:
            report = session.exec(select(StatusReport)).one()
            evidence = session.exec(select(EvidenceFile)).one()
        assert (report.receipt, report.figure) == (receipt, "96,5%")
        assert (evidence.file_name, evidence.content) == ("bien-ban.pdf", PDF)
        await service.aclose()


async def test_forged_signature_is_refused_and_changes_nothing(any_engine):
    engine = any_engine
    with FakeZaloOA() as oa:
        service = service_for(oa, engine)
        await connect(service, oa)
        code = invite_code(engine, "STP", UserRole.FOCAL)
        headers, body = oa.event(USER, text=f"/start {code}")
        forged = {"X-ZEvent-Signature": "mac=" + "0" * 64}
        assert await service.webhook(forged, body) == 403
        assert await service.webhook({}, body) == 403
        tampered = body.replace(USER.encode(), OTHER.encode())
        assert await service.webhook(headers, tampered) == 403
        assert await service.webhook(headers, b"not json") == 400
        with Session(engine) as session:
            assert session.exec(select(Contact).where(Contact.channel == "zalo_oa")).all() == []
        assert oa.sent() == []
        # the genuine one, without the "mac=" prefix some senders omit, goes through
        bare = {"x-zevent-signature": headers["X-ZEvent-Signature"][4:]}
        assert await service.webhook(bare, body) == 200
        await service.adapter.inbox.drain()  # recorded before the 200, processed from the inbox
        with Session(engine) as session:
            assert len(session.exec(select(Contact).where(Contact.channel == "zalo_oa")).all()) == 1
        await service.aclose()


async def test_forged_button_payload_is_refused_and_audited(any_engine):
    engine = any_engine
    with FakeZaloOA() as oa:
        service = service_for(oa, engine)
        await connect(service, oa)
        for user, agency in ((USER, "STP"), (OTHER, "SYT")):
            code = invite_code(engine, agency, UserRole.FOCAL)
            await text(service, oa, user, f"/start {code}", "Đã liên kết")
        # OTHER got a reminder's button (a real token, bound to OTHER); USER types its payload
        with Session(engine) as session:
            other = session.exec(select(Contact).where(Contact.user_id == OTHER)).one()
            task_id = session.exec(
                select(Assignment.task_id).where(Assignment.agency_id == other.agency_id)
            ).first()
            args = {"task_id": task_id, "agency_id": other.agency_id}
            token = issue_button(session, other.id, "report_task", args, timedelta(days=1), T0)
            session.commit()
        await service.channel.send(OTHER, Outgoing("Nhắc việc", [[Button("Báo cáo ngay", token)]]))
        payload = last_buttons(oa, OTHER)[0]["payload"]
        assert payload == f"#pb:{token}"
        mark = len(oa.sent(USER))
        await deliver(service, oa, USER, text=payload)
        await deliver(service, oa, USER, text="#pb:made-up-token")
        assert said(oa, USER, mark).count("không dành cho bạn") == 2
        with Session(engine) as session:
            refused = session.exec(
                select(AuditLog).where(AuditLog.action == "button", AuditLog.outcome == "refused")
            ).all()
            assert session.exec(select(ChatFlow)).all() == []  # no report was opened
        assert sorted(r.target for r in refused) == sorted([token[:64], "made-up-token"])
        assert all(r.actor == f"zalo_oa:{USER}" for r in refused)
        # the rightful owner's tap of the same payload opens the report on that task
        mark = len(oa.sent(OTHER))
        await deliver(service, oa, OTHER, text=payload)
        assert "Tình trạng hiện nay" in said(oa, OTHER, mark)
        await service.aclose()


async def test_outside_the_window_a_message_is_not_sent_blindly_and_zns_carries_reminders(
    any_engine,
):
    engine = any_engine
    with FakeZaloOA() as oa:
        clock = FixedClock(T0)
        service = service_for(oa, engine, clock, ZALO_OA_WINDOW_HOURS=48)
        await connect(service, oa)
        code = invite_code(engine, "STP", UserRole.FOCAL)
        await text(service, oa, USER, f"/start {code}", "Đã liên kết")
        title = (
            "Rà soát, đơn giản hóa thủ tục hành chính nội bộ giữa các cơ quan hành chính nhà "
            "nước thuộc phạm vi quản lý của tỉnh"
        )
        reminder = Outgoing(
            "Nhắc hạn: nhiệm vụ III.4.1 đến hạn 15/07/2024",
            [[Button("Báo cáo ngay", "t")]],
            notice=Notice("III.4.1", title, "2024-07-15"),
        )
        await service.channel.send(USER, reminder)  # inside the window: a normal message
        clock.set(T0 + timedelta(hours=49))
        count = len(oa.sent(USER))
        with pytest.raises(OutsideWindow) as refused:
            await service.channel.send(USER, reminder)
        assert "outside_window[no_zns_template,no_phone]" in str(refused.value)
        assert len(oa.sent(USER)) == count
        # with a template id and the contact's phone, the reminder goes as ZNS
        zns = service_for(oa, engine, clock, ZALO_ZNS_TEMPLATE_ID="231645")
        set_phone(engine, "zalo_oa", USER, "84912345678")
        sent = await zns.channel.send(USER, reminder)
        calls = oa.sent(path="/message/template")
        assert sent.message_id and len(calls) == 1
        params = calls[0].params
        assert (params["phone"], params["template_id"]) == ("84912345678", "231645")
        data = params["template_data"]
        assert (data["ma_nhiem_vu"], data["han_bao_cao"]) == ("III.4.1", "15/07/2024")
        assert data["lien_ket"] == "https://parbot.example.gov.vn"
        # the title is cut to the 90 characters of a ZNS table cell, at a word
        assert len(data["ten_nhiem_vu"]) <= 90 and data["ten_nhiem_vu"].endswith("…")
        assert title.startswith(data["ten_nhiem_vu"][:-1])
        assert len(oa.sent(USER)) == count  # no consultation message outside the window
        await service.aclose()
        await zns.aclose()


async def test_pdf_goes_natively_and_xlsx_as_a_link_note(engine, tmp_path):
    with FakeZaloOA() as oa:
        service = service_for(oa, engine)
        await connect(service, oa)
        code = invite_code(engine, "STP", UserRole.FOCAL)
        await text(service, oa, USER, f"/start {code}", "Đã liên kết")
        pdf = tmp_path / "bao-cao.pdf"
        pdf.write_bytes(PDF)
        xlsx = tmp_path / "tong-hop.xlsx"
        xlsx.write_bytes(b"PK\x03\x04" + b"x" * 100)
        await service.channel.send(
            USER, Outgoing("Báo cáo", document=Document("bao-cao.pdf", path=str(pdf)))
        )
        uploaded = [c for c in oa.calls if c.path == "/v2.0/oa/upload/file" and c.ok]
        assert len(uploaded) == 1
        file_messages = [
            c
            for c in oa.sent(USER)
            if (c.params["message"].get("attachment") or {}).get("type") == "file"
        ]
        assert len(file_messages) == 1
        mark = len(oa.sent(USER))
        await service.channel.send(
            USER, Outgoing("Tổng hợp", document=Document("tong-hop.xlsx", path=str(xlsx)))
        )
        assert len([c for c in oa.calls if c.path == "/v2.0/oa/upload/file"]) == 1  # not uploaded
        assert "tong-hop.xlsx" in said(oa, USER, mark) and "parbot report" in said(oa, USER, mark)
        await service.aclose()
