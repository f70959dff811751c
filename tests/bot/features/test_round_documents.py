"""A round that asks for a document, end to end on the real PTB Application and the fake Bot
API: Sở Tư pháp sends its improvement plan for the 05/7/2024 round from the round's reminder
(a .docx with its number and date); the round's report shows it as sent (JSON, workbook, chat);
a status report on task II.1.a is not filed under that round.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import docx
import openpyxl
from sqlmodel import Session, select

from core.clock import FixedClock
from core.report_model import Letterhead, Scope
from messages.reports.build import Format, compile_report, write_output
from messages.reports.json_export import report_dict
from scheduler.context import Scheduling
from scheduler.reminders import sweep
from storage.tables.round_documents import RoundSubmission
from storage.tables.shared import AuditLog, ReportingRound, StatusReport, Task
from tests.bot.features.test_scheduling import FOCAL_STC, FOCAL_STP, deliver_all, people
from tests.support.chat import ChatBot, texts
from tests.support.scheduling import VN, vn

ROUND = "KH-CAITHIEN-2024"
SKIPS = ("Bỏ qua", "Chưa có số liệu")


def plan_docx(title: str = "KẾ HOẠCH cải thiện Chỉ số PAR INDEX 2023 của Sở Tư pháp") -> bytes:
    document = docx.Document()
    document.add_paragraph(title)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def round_report(engine, day: date, scope: Scope | None = None):
    now = vn(day, 10)
    with Session(engine) as session:
        return compile_report(session, scope or Scope(round_code=ROUND, as_of=day), VN, now)


async def test_stp_sends_its_improvement_plan_from_the_rounds_reminder(
    fake_api, engine, tmp_path: Path
):
    people(engine)
    clock = FixedClock(vn(date(2024, 7, 2), 8, 30))  # T−3 of the 05/7 round
    content = plan_docx()
    async with ChatBot(fake_api, engine, clock=clock) as bot:
        sweep(Scheduling(engine, clock))
        await deliver_all(bot, clock)
        reminder = bot.last_with_buttons(FOCAL_STP)
        assert "Kỳ báo cáo: Kế hoạch cải thiện Chỉ số thành phần PAR INDEX 2023" in reminder.text
        assert [b["text"] for b in reminder.buttons] == ["Gửi văn bản", "Nhắc lại sau"]

        # another agency's focal point pressing STP's «Gửi văn bản» is refused and audited
        forged = fake_api.make_button_press(
            FOCAL_STC, reminder.message_id, reminder.buttons[0]["callback_data"]
        )
        assert "không hợp lệ" in texts(await bot.send(forged))

        asked = texts(await bot.press(FOCAL_STP, "Gửi văn bản", expect="Bước 1/4"))
        assert "Hạn gửi: 05/07/2024" in asked and "PDF, DOC, DOCX" in asked
        # an image is not a document; a program named .docx is refused by its content
        png = fake_api.make_document(FOCAL_STP, "anh.png", b"\x89PNG\r\n\x1a\n", "image/png")
        assert "Bước 1/4" in texts(await bot.send(png))
        fake = fake_api.make_document(FOCAL_STP, "ke-hoach.docx", b"MZ\x90\x00", "application/x")
        refused = texts(await bot.send(fake))
        assert "Bước 2/4" not in refused and "ke-hoach.docx" in refused

        sent = fake_api.make_document(
            FOCAL_STP,
            "KH-cai-thien-STP.docx",
            content,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
        number = texts(await bot.send(sent, expect="Bước 2/4"))
        assert "📎 Đã nhận “KH-cai-thien-STP.docx”" in number
        await bot.text(FOCAL_STP, "125/KH-STP", expect="Bước 3/4")
        bad = texts(await bot.text(FOCAL_STP, "31/02/2024"))
        assert "«31/02/2024» không phải một ngày có thật" in bad and "Bước 3/4" in bad
        future = texts(await bot.text(FOCAL_STP, "03/07/2024"))
        assert "còn ở phía trước" in future
        await bot.text(FOCAL_STP, "01/07/2024", expect="Bước 4/4")
        summary = texts(await bot.text(FOCAL_STP, "Thay cho dự thảo gửi qua thư điện tử"))
        assert "Văn bản: số 125/KH-STP, ban hành ngày 01/07/2024" in summary
        receipt = texts(await bot.press(FOCAL_STP, "Gửi", expect="Số biên nhận"))
        assert "Số biên nhận: VB-2024-" in receipt
        assert "Thuộc kỳ báo cáo: Kế hoạch cải thiện Chỉ số thành phần" in receipt

        # /baocao no longer offers STP's document (sent) but offers STC's (still owed)
        stp_list = texts(await bot.command(FOCAL_STP, "baocao"))
        assert "Gửi văn bản" not in stp_list
        stc_list = await bot.command(FOCAL_STC, "baocao")
        assert "📄 Cơ quan còn phải gửi văn bản" in texts(stc_list)
        assert stc_list[-1].buttons[0]["text"].startswith("📄 Gửi văn bản: Kế hoạch cải thiện")
        assert "Bước 1/4" in texts(await bot.press(FOCAL_STC, "📄 Gửi văn bản"))

        # a status report on II.1.a from STP: not filed under the document round
        await bot.command(FOCAL_STP, "baocao", "II.1.a", expect="Tình trạng hiện nay")
        await bot.press(FOCAL_STP, "Đang thực hiện", expect="mô tả ngắn")
        await bot.text(FOCAL_STP, "Đã rà soát 12 văn bản")
        step = bot.last_with_buttons(FOCAL_STP)
        while "Tài liệu kiểm chứng" not in step.text:  # figure, difficulties: none
            skip = next(b["text"] for b in step.buttons if b["text"] in SKIPS)
            await bot.press(FOCAL_STP, skip)
            step = bot.last_with_buttons(FOCAL_STP)
        await bot.press(FOCAL_STP, "Bỏ qua", expect="Xem lại báo cáo")
        status_receipt = texts(await bot.press(FOCAL_STP, "Gửi", expect="Số biên nhận"))
        assert "Thuộc kỳ báo cáo" not in status_receipt

        # the next reminder run writes nothing more for STP: its document answered the round
        clock.set(vn(date(2024, 7, 5), 8, 30))
        sweep(Scheduling(engine, clock))
        await deliver_all(bot, clock)
        due = "Hôm nay là hạn cuối"
        assert not any(due in c.text for c in fake_api.sent_messages(FOCAL_STP))
        assert any(due in c.text for c in fake_api.sent_messages(FOCAL_STC))

    with Session(engine) as session:
        [doc] = session.exec(select(RoundSubmission)).all()
        round_ = session.exec(select(ReportingRound).where(ReportingRound.code == ROUND)).one()
        [status] = session.exec(select(StatusReport)).all()
        task = session.get(Task, status.task_id)
        audits = session.exec(
            select(AuditLog).where(AuditLog.action.in_(["round_document_submit", "button"]))
        ).all()
    assert (doc.round_id, doc.number, doc.issued_on, doc.version) == (
        round_.id, "125/KH-STP", date(2024, 7, 1), 1,
    )  # fmt: skip
    assert bytes(doc.content) == content and doc.file_name == "KH-cai-thien-STP.docx"
    assert doc.status == "submitted" and doc.note == "Thay cho dự thảo gửi qua thư điện tử"
    assert task.ref == "II.1.a" and status.round_id != round_.id
    assert sorted((a.action, a.outcome) for a in audits) == [
        ("button", "refused"), ("round_document_submit", "ok"),
    ]  # fmt: skip

    # the round's report: STP sent (on time), five others not yet — JSON and workbook agree
    report = round_report(engine, date(2024, 7, 3))
    [documents] = report_dict(report)["documents"]
    by_code = {a["code"]: a for a in documents["agencies"]}
    assert documents["totals"] == {
        "asked": 6, "sent": 1, "on_time": 1, "late": 0, "returned": 0, "not_sent": 5,
    }  # fmt: skip
    assert by_code["STP"]["state"] == "on_time"
    assert by_code["STP"]["submission"]["number"] == "125/KH-STP"
    assert by_code["STP"]["submission"]["status"] == "submitted"
    assert by_code["STC"]["state"] == "missing" and by_code["STC"]["submission"] is None
    assert report.data.tasks == []  # a document round covers no task
    book_path = write_output(Format.XLSX, report, tmp_path / "kq.xlsx", VN)
    sheet = openpyxl.load_workbook(book_path)["Văn bản theo kỳ"]
    rows = {r[2]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["STP"][4] == "Đã gửi đúng hạn" and rows["STP"][5] == "125/KH-STP"
    assert rows["STP"][12].startswith("VB-2024-")
    assert rows["STC"][4] == "Chưa gửi (còn hạn)"
    # the Word report says it in a sentence an official would sign
    letterhead = Letterhead(
        "UBND tỉnh Quảng Nam", "tỉnh Quảng Nam", "Sở Nội vụ", "SNV", "Quảng Nam"
    )
    word = write_output(Format.DOCX, report, tmp_path / "kq.docx", VN, letterhead)
    text = "\n".join(p.text for p in docx.Document(str(word)).paragraphs)
    assert (
        "1/6 cơ quan, đơn vị đã gửi, gồm: Sở Tư pháp (văn bản số 125/KH-STP ngày 01/07/2024" in text
    )
    assert "Các cơ quan, đơn vị chưa gửi: Sở Kế hoạch và Đầu tư" in text
    # after the deadline, those who have not sent are overdue
    late = report_dict(round_report(engine, date(2024, 7, 8)))["documents"][0]
    assert {a["code"]: a["state"] for a in late["agencies"]}["STC"] == "overdue"
