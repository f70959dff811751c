"""`/duyet` is the one queue, on the real PTB Application and the fake Bot API: a coordinator
sees a status report, an extension request and a round document, oldest first, and decides
each — Đạt, Chấp thuận, Trả lại with a reason. The focal point hears each decision through the
outbox; the returned document comes with «Gửi lại văn bản», which opens the document flow for
that round; the round's report counts it as not sent. A focal point's `/duyet` and its press
of the coordinator's button are refused, change nothing and are audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import openpyxl
from sqlmodel import Session, select

from core.clock import FixedClock
from core.model import ReportStatus
from core.report_model import Scope
from messages.reports.build import Format, compile_report, write_output
from messages.reports.json_export import report_dict
from storage.tables.extensions import ExtensionRequest
from storage.tables.round_documents import RoundSubmission
from storage.tables.shared import AuditLog, StatusReport
from tests.bot.web.flows import deliver
from tests.storage.review.test_queue_kinds import TZ, ask_extension, send_document
from tests.storage.review.test_review import file_report
from tests.support.chat import ChatBot, texts
from tests.support.scheduling import add_contact

COORD, FOCAL = 7201, 7202
T = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)  # Monday 09:00 in Hà Nội; the 05/7 round is open


async def test_duyet_decides_a_report_an_extension_and_a_document_oldest_first(
    fake_api, engine, tmp_path
):
    api = fake_api
    add_contact(engine, "coordinator", "SNV", str(COORD), name="Chị Hoa (SNV)")
    focal = add_contact(engine, "focal", "STP", str(FOCAL), name="Anh Tư pháp")
    report = file_report(engine, "STP", "III.4.1", ReportStatus.DONE, "", T)
    ask_extension(engine, focal, "II.1.a", date(2024, 7, 25), T + timedelta(hours=1))
    document = send_document(engine, focal, T + timedelta(hours=2))
    clock = FixedClock(T + timedelta(hours=3))
    async with ChatBot(api, engine, clock=clock) as bot:
        assert "không có quyền" in texts(await bot.command(FOCAL, "duyet"))

        # 1. the oldest: the status report
        shown = await bot.command(COORD, "duyet", expect="Báo cáo chờ duyệt")
        assert report.receipt in texts(shown) and "Còn 3 mục" in texts(shown)
        assert [b["text"] for b in shown[-1].buttons] == ["✅ Đạt", "↩️ Trả lại", "Bỏ qua"]
        # 2. then the extension request, with the same decisions as /giahan
        item = texts(await bot.press(COORD, "Đạt", expect="Đề nghị gia hạn chờ quyết định"))
        assert "Đã duyệt «Đạt» báo cáo" in item and "Xin gia hạn đến: 25/07/2024" in item
        offered = bot.last_with_buttons(COORD)
        assert [b["text"] for b in offered.buttons] == ["Chấp thuận", "Từ chối", "Bỏ qua"]
        # the focal point pressing the coordinator's «Chấp thuận»: not theirs, nothing moves
        approve = next(b for b in offered.buttons if b["text"] == "Chấp thuận")["callback_data"]
        await api_press(bot, FOCAL, approve)
        with Session(engine) as session:
            assert session.exec(select(ExtensionRequest)).one().status == "pending"
        # 3. then the document
        item = texts(await bot.press(COORD, "Chấp thuận", expect="Văn bản chờ duyệt"))
        assert "Đã chấp thuận: Sở Tư pháp, nhiệm vụ II.1.a gia hạn đến 25/07/2024" in item
        assert "Văn bản: số 125/KH-STP, ban hành ngày 28/06/2024" in item
        offered = bot.last_with_buttons(COORD)
        assert [b["text"] for b in offered.buttons] == [
            "✅ Đạt", "↩️ Trả lại", "📎 Xem tài liệu", "Bỏ qua",
        ]  # fmt: skip
        files = await bot.press(COORD, "Xem tài liệu", expect="Văn bản chờ duyệt")
        [sent] = [c for c in files if c.method == "sendDocument"]
        assert sent.params["document"].file_name == "ke-hoach.pdf"
        assert sent.params["document"].content.startswith(b"%PDF")
        await bot.press(COORD, "Trả lại", expect="Nhập lý do trả lại văn bản")
        done = texts(await bot.text(COORD, "Chưa có chữ ký của Giám đốc Sở"))
        assert "Đã trả lại văn bản VB-2024-" in done and "Không còn mục nào" in done
        assert "Đã xử lý 3 mục" in done

        # the focal point hears all three; the document comes back with «Gửi lại văn bản»
        mark = api.mark()
        assert await deliver(bot) == 4  # and the coordinators' notice of the request
        told = [c for c in api.sent_messages(FOCAL) if c.seq >= mark]
        assert len(told) == 3
        said = texts(told)
        assert "đã được duyệt: Đạt" in said
        assert "đã chấp thuận đề nghị gia hạn nhiệm vụ II.1.a" in said
        assert "bị Sở Nội vụ trả lại" in said and "Lý do: Chưa có chữ ký của Giám đốc Sở" in said
        assert [b["text"] for b in told[-1].buttons] == ["Gửi lại văn bản"]
        again = texts(await bot.press(FOCAL, "Gửi lại văn bản", expect="Bước 1/4"))
        assert "Gửi văn bản cho kỳ báo cáo: Kế hoạch cải thiện" in again

    with Session(engine) as session:
        assert session.get(StatusReport, report.report_id).review == "accepted"  # type: ignore[union-attr]
        assert session.exec(select(ExtensionRequest)).one().status == "approved"
        sent = session.get(RoundSubmission, document)
        assert sent is not None and sent.status == "returned"
        audits = session.exec(select(AuditLog).where(AuditLog.action.like("review_%"))).all()
        refused = session.exec(
            select(AuditLog).where(AuditLog.outcome == "refused", AuditLog.action != "review_x")
        ).all()
        scope = Scope(round_code="KH-CAITHIEN-2024", as_of=date(2024, 7, 2))
        compiled = compile_report(session, scope, TZ, clock.now())
        round_report = report_dict(compiled)
    assert sorted((a.action, a.outcome) for a in audits) == [
        ("review_accept", "ok"), ("review_approve", "ok"), ("review_return", "ok"),
    ]  # fmt: skip
    assert {a.action for a in refused} >= {"command:/duyet", "button"}
    [documents] = round_report["documents"]
    stp = next(a for a in documents["agencies"] if a["code"] == "STP")
    assert stp["state"] == "returned" and stp["submission"]["status"] == "returned"
    assert documents["totals"]["sent"] == 0 and documents["totals"]["returned"] == 1
    assert stp["submission"]["status_reason"] == "Chưa có chữ ký của Giám đốc Sở"
    book = openpyxl.load_workbook(write_output(Format.XLSX, compiled, tmp_path / "kq.xlsx", TZ))
    rows = {r[2]: r for r in book["Văn bản theo kỳ"].iter_rows(min_row=2, values_only=True)}
    assert rows["STP"][4] == "Bị trả lại, chưa gửi lại"
    assert rows["STP"][13:15] == ("Trả lại", "Chưa có chữ ký của Giám đốc Sở")


async def api_press(bot: ChatBot, user: int, data: str) -> None:
    own = bot.api.last_message(user).message_id
    await bot.send(bot.api.make_button_press(user, own, data))
    popup = bot.api.calls_to("answerCallbackQuery")[-1].params.get("text", "")
    assert "không còn hiệu lực" in popup or "không hợp lệ" in popup, popup
