"""Review on the real PTB Application and the fake Bot API: a focal point reports, the
coordinator returns it with a reason through `/duyet`, the focal point gets the reason and
«Báo cáo lại» with the last answers filled in, resubmits, the coordinator accepts. The JSON
report and the workbook are read at every step: chờ duyệt counts by what it says, a returned
report counts as not done, an accepted one keeps its submission time. Wrong-role attempts are
refused and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlmodel import Session, select

from core.clock import FixedClock
from core.model import UserRole
from core.report_model import Scope
from messages.reports.build import compile_report
from messages.reports.json_export import report_dict
from messages.reports.xlsx import write_workbook
from storage.tables.shared import AuditLog, Outbox, StatusReport
from tests.bot.web.flows import deliver
from tests.support.chat import ChatBot, invite_code, texts

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FOCAL, COORD = 6101, 6102
NOW = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)
TASK = "III.4.1"


def state(engine, tmp_path: Path, now: datetime) -> tuple[dict, dict, list]:
    """(the task in the JSON report, the JSON totals' review, STP's rows of the «Báo cáo» sheet)."""
    with Session(engine) as session:
        scope = Scope(agency_code="STP", as_of=now.astimezone(TZ).date())
        report = compile_report(session, scope, TZ, now)
    task = next(t for t in report_dict(report)["tasks"] if t["ref"] == TASK)
    path = tmp_path / f"tong-hop-{now.timestamp():.0f}.xlsx"
    write_workbook(report, path, TZ)
    sheet = load_workbook(path, read_only=True)["Báo cáo"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    wanted = [header.index(c) for c in ("Số TT", "Mã cơ quan", "Lần", "Kết quả duyệt")]
    reason = header.index("Lý do trả lại")
    ours = [
        [row[i] for i in wanted] + [row[reason]]
        for row in rows[1:]
        if row[0] == TASK and row[1] == "STP"
    ]
    return task, report_dict(report)["totals"]["review"], ours


async def test_submit_return_report_again_and_accept_show_in_json_and_workbook(
    fake_api, engine, tmp_path
):
    clock = FixedClock(NOW)
    async with ChatBot(fake_api, engine, clock) as bot:
        await bot.command(FOCAL, "start", invite_code(engine, "STP", UserRole.FOCAL, NOW))
        await bot.command(COORD, "start", invite_code(engine, "SNV", UserRole.COORDINATOR, NOW))
        # 1. the focal point reports the task done: chờ duyệt, counted done provisionally
        await bot.command(FOCAL, "baocao", TASK, expect="Tình trạng hiện nay")
        await bot.press(FOCAL, "Hoàn thành")
        await bot.text(FOCAL, "Đã công khai 100% TTHC")
        await bot.text(FOCAL, "96")
        await bot.press(FOCAL, "Bỏ qua", expect="Tài liệu kiểm chứng")
        await bot.press(FOCAL, "Bỏ qua", expect="Xem lại báo cáo")
        saved = texts(await bot.press(FOCAL, "Gửi", expect="Số biên nhận"))
        assert "chờ duyệt" in saved
        task, review, rows = state(engine, tmp_path, clock.now())
        assert task["verdict"] == "done_on_time"
        assert task["review"] == {"pending": 1, "accepted": 0, "returned": 0}
        assert review["pending"] == 1 and review["done_pending"] == 1
        assert rows == [[TASK, "STP", 1, "Chờ duyệt", None]]

        # 2. the coordinator opens /duyet: the report, its answers, Đạt / Trả lại / Bỏ qua
        clock.set(NOW + timedelta(hours=2))
        shown = await bot.command(COORD, "duyet", expect="Báo cáo chờ duyệt")
        assert "Đã công khai 100% TTHC" in texts(shown)
        assert [b["text"] for b in shown[-1].buttons] == ["✅ Đạt", "↩️ Trả lại", "Bỏ qua"]
        await bot.press(COORD, "Trả lại", expect="Nhập lý do")
        done = texts(await bot.text(COORD, "Thiếu quyết định công bố kèm theo", expect="trả lại"))
        assert "Không còn mục nào chờ duyệt" in done
        task, review, rows = state(engine, tmp_path, clock.now())
        assert task["verdict"] != "done_on_time" and task["verdict"] in ("in_progress", "overdue")
        assert task["review"] == {"pending": 0, "accepted": 0, "returned": 1}
        assert rows == [[TASK, "STP", 1, "Trả lại", "Thiếu quyết định công bố kèm theo"]]

        # 3. the focal point gets the reason and «Báo cáo lại» through the outbox
        mark = fake_api.mark()
        assert await deliver(bot) >= 1
        told = [c for c in fake_api.sent_messages(FOCAL) if c.seq >= mark]
        assert "Lý do: Thiếu quyết định công bố kèm theo" in texts(told)
        assert [b["text"] for b in told[-1].buttons] == ["Báo cáo lại"]
        again = texts(await bot.press(FOCAL, "Báo cáo lại", expect="Xem lại báo cáo"))
        assert "Đã công khai 100% TTHC" in again and "Hoàn thành" in again
        assert "Lý do: Thiếu quyết định công bố kèm theo" in again
        # 4. resubmit with the missing file: chờ duyệt again
        await bot.press(FOCAL, "Sửa", expect="sửa mục nào")
        await bot.press(FOCAL, "Tài liệu kiểm chứng", expect="gửi tệp")
        await bot.send(
            fake_api.make_document(
                FOCAL, "QĐ-công-bố.pdf", b"%PDF-1.4\n% qd\n" * 40, "application/pdf"
            ),
            expect="Đã nhận",
        )
        await bot.press(FOCAL, "Xong", expect="Xem lại báo cáo")
        await bot.press(FOCAL, "Gửi", expect="Số biên nhận")
        resubmitted = clock.now()
        task, review, rows = state(engine, tmp_path, clock.now())
        assert task["verdict"] == "done_on_time"
        assert task["review"] == {"pending": 1, "accepted": 0, "returned": 0}
        assert rows == [
            [TASK, "STP", 1, "Trả lại", "Thiếu quyết định công bố kèm theo"],
            [TASK, "STP", 2, "Chờ duyệt", None],
        ]

        # 5. accepted long after the deadline: still on time, dated by its submission
        clock.set(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))
        shown = await bot.command(COORD, "duyet", expect="QĐ-công-bố.pdf")
        assert [b["text"] for b in shown[-1].buttons] == [
            "✅ Đạt",
            "↩️ Trả lại",
            "📎 Xem tài liệu",
            "Bỏ qua",
        ]
        files = await bot.press(COORD, "Xem tài liệu", expect="Báo cáo chờ duyệt")
        documents = [c for c in files if c.method == "sendDocument"]
        assert [d.params["document"].file_name for d in documents] == ["QĐ-công-bố.pdf"]
        assert "Tài liệu kiểm chứng 1/1" in documents[0].text
        done = texts(await bot.press(COORD, "Đạt", expect="Đạt"))
        assert "Đã duyệt «Đạt»" in done
        task, review, rows = state(engine, tmp_path, clock.now())
        assert task["verdict"] == "done_on_time"
        assert task["review"] == {"pending": 0, "accepted": 1, "returned": 0}
        assert rows[-1] == [TASK, "STP", 2, "Đạt", None]
        with Session(engine) as session:
            latest = session.exec(
                select(StatusReport).where(StatusReport.is_latest, StatusReport.version == 2)
            ).one()
            assert latest.submitted_at == resubmitted and latest.review == "accepted"
            actions = set(session.exec(select(AuditLog.action)).all())
            assert {"review_return", "review_accept", "report_again"} <= actions


async def test_a_focal_point_cannot_review_by_command_forged_button_or_old_number(fake_api, engine):
    async with ChatBot(fake_api, engine, FixedClock(NOW)) as bot:
        await bot.command(FOCAL, "start", invite_code(engine, "STP", UserRole.FOCAL, NOW))
        await bot.command(COORD, "start", invite_code(engine, "SNV", UserRole.COORDINATOR, NOW))
        await bot.command(FOCAL, "baocao", TASK, expect="Tình trạng hiện nay")
        await bot.press(FOCAL, "Đang thực hiện")
        await bot.text(FOCAL, "Đang rà soát")
        await bot.text(FOCAL, "50")
        await bot.text(FOCAL, "Thiếu cán bộ", expect="Tài liệu kiểm chứng")
        await bot.press(FOCAL, "Bỏ qua", expect="Xem lại báo cáo")
        await bot.press(FOCAL, "Gửi", expect="Số biên nhận")
        refused = texts(await bot.command(FOCAL, "duyet"))
        assert "không có quyền" in refused
        # the coordinator's «Đạt» button pressed from the focal point's chat: refused
        shown = await bot.command(COORD, "duyet", expect="Báo cáo chờ duyệt")
        accept = next(b for b in shown[-1].buttons if "Đạt" in b["text"])
        forged = fake_api.make_button_press(FOCAL, shown[-1].message_id, accept["callback_data"])
        await bot.send(forged)
        with Session(engine) as session:
            report = session.exec(select(StatusReport)).one()
            assert report.review == "pending"
            refusals = session.exec(
                select(AuditLog.action).where(AuditLog.outcome == "refused")
            ).all()
            assert "command:/duyet" in refusals and len(refusals) >= 2
            assert session.exec(select(Outbox).where(Outbox.kind.like("review%"))).all() == []


async def test_a_difficulty_answered_in_duyet_reaches_the_focal_point(fake_api, engine):
    async with ChatBot(fake_api, engine, FixedClock(NOW)) as bot:
        await bot.command(FOCAL, "start", invite_code(engine, "STP", UserRole.FOCAL, NOW))
        await bot.command(COORD, "start", invite_code(engine, "SNV", UserRole.COORDINATOR, NOW))
        await bot.command(FOCAL, "baocao", TASK, expect="Tình trạng hiện nay")
        await bot.press(FOCAL, "Gặp vướng mắc")
        await bot.text(FOCAL, "Đã rà soát 40 thủ tục")
        await bot.text(FOCAL, "40")
        await bot.text(FOCAL, "Chưa có hướng dẫn số hoá kết quả", expect="Tài liệu kiểm chứng")
        await bot.press(FOCAL, "Bỏ qua", expect="Xem lại báo cáo")
        await bot.press(FOCAL, "Gửi", expect="Số biên nhận")
        await bot.command(COORD, "duyet", expect="Báo cáo chờ duyệt")
        shown = await bot.press(COORD, "Đạt", expect="Vướng mắc chờ trả lời")
        assert "Đã duyệt «Đạt»" in texts(shown)
        assert [b["text"] for b in shown[-1].buttons] == ["💬 Trả lời", "Bỏ qua"]
        await bot.press(COORD, "Trả lời", expect="Nhập nội dung trả lời")
        done = await bot.text(COORD, "Thực hiện theo Công văn 45/SNV", expect="Không còn mục")
        assert "Đã gửi trả lời vướng mắc" in texts(done)
        mark = fake_api.mark()
        assert await deliver(bot) >= 2  # «Đạt» and the answer
        told = texts([c for c in fake_api.sent_messages(FOCAL) if c.seq >= mark])
    assert "Trả lời vướng mắc về nhiệm vụ III.4.1" in told
    assert "Thực hiện theo Công văn 45/SNV" in told and "Chưa có hướng dẫn số hoá" in told
    with Session(engine) as session:
        report = session.exec(select(StatusReport)).one()
    assert report.answer == "Thực hiện theo Công văn 45/SNV" and report.review == "accepted"


async def test_report_again_pressed_after_a_newer_report_starts_from_the_newer_one(
    fake_api, engine
):
    clock = FixedClock(NOW)
    async with ChatBot(fake_api, engine, clock) as bot:
        await bot.command(FOCAL, "start", invite_code(engine, "STP", UserRole.FOCAL, NOW))
        await bot.command(COORD, "start", invite_code(engine, "SNV", UserRole.COORDINATOR, NOW))

        async def report(result: str) -> None:
            await bot.command(FOCAL, "baocao", TASK, expect="Tình trạng hiện nay")
            await bot.press(FOCAL, "Hoàn thành")
            await bot.text(FOCAL, result)
            await bot.text(FOCAL, "96")
            await bot.press(FOCAL, "Bỏ qua", expect="Tài liệu kiểm chứng")
            await bot.press(FOCAL, "Bỏ qua", expect="Xem lại báo cáo")
            await bot.press(FOCAL, "Gửi", expect="Số biên nhận")

        await report("Bản đầu tiên")
        await bot.command(COORD, "duyet", expect="Báo cáo chờ duyệt")
        await bot.press(COORD, "Trả lại", expect="Nhập lý do")
        await bot.text(COORD, "Thiếu quyết định công bố", expect="trả lại")
        mark = fake_api.mark()
        assert await deliver(bot) >= 1
        [told] = [c for c in fake_api.sent_messages(FOCAL) if c.seq >= mark and c.buttons]
        # the focal point ignores the button and reports again through /baocao …
        await report("Bản thứ hai, đã bổ sung quyết định")
        # … then presses the old «Báo cáo lại»: it starts from the newer report
        button = told.buttons[0]
        assert button["text"] == "Báo cáo lại"
        press = fake_api.make_button_press(FOCAL, told.message_id, button["callback_data"])
        again = texts(await bot.send(press, expect="Xem lại báo cáo"))
        assert "Bản thứ hai, đã bổ sung quyết định" in again
        assert "Bản đầu tiên" not in again and "Thiếu quyết định công bố" not in again
