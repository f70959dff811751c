"""Extension requests and deputies in chat, on the real PTB Application and the fake Bot API.

A focal point asks for more time from a reminder's «Xin gia hạn» (a malformed, a past and a
too-early date are refused in Vietnamese); the coordinators hear of it; /giahan shows the
oldest request and «Chấp thuận» moves the deadline (the focal point is told, /nhiemvu says
"gia hạn đến"). From a report receipt the focal point asks again; «Từ chối» with a reason
moves nothing and the reason reaches the focal point. A focal point's /giahan, a coordinator's
button pressed by a focal point and a deputy invite for another agency are refused, change
nothing and are audited. /caidat sets and clears an absence; /moi by a focal point invites a
deputy who, once linked, receives the reminders during the absence.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from core.clock import FixedClock
from scheduler.context import Scheduling
from scheduler.reminders import sweep
from storage.db import transaction
from storage.tables.chat import Invite
from storage.tables.extensions import ExtensionRequest, FocalSeat
from storage.tables.shared import AuditLog, Contact, Task
from tests.bot.features.test_scheduling import deliver_all
from tests.support.chat import ChatBot, texts
from tests.support.scheduling import add_contact, vn

COORD, FOCAL, DEPUTY_USER = 7101, 7102, 7103


def _due(engine, ref: str, day: date) -> None:
    with transaction(engine) as session:
        task = session.exec(select(Task).where(Task.ref == ref)).one()
        task.due_date = day
        session.add(task)


def _reminder(api, chat: int, ref: str):
    """The latest message with buttons that names `ref` (01/07 also brings the check-in)."""
    return next(c for c in reversed(api.sent_messages(chat)) if c.buttons and ref in c.text)


async def _press(bot, call, user: int, label: str):
    data = next(b["callback_data"] for b in call.buttons if b["text"] == label)
    return await bot.send(bot.api.make_button_press(user, call.message_id, data))


def _audit(engine, action: str) -> list[AuditLog]:
    with Session(engine) as session:
        return list(session.exec(select(AuditLog).where(AuditLog.action == action)).all())


async def test_extension_asked_from_a_reminder_approved_and_refused_in_chat(fake_api, engine):
    api = fake_api
    _due(engine, "II.1.a", date(2024, 7, 4))  # T−3 on Monday 01/07
    _due(engine, "II.1.b", date(2024, 7, 10))
    add_contact(engine, "coordinator", "SNV", str(COORD), name="Chị Hoa (SNV)")
    add_contact(engine, "focal", "STP", str(FOCAL), name="Anh Tư pháp")
    clock = FixedClock(vn(date(2024, 7, 1), 9, 0))
    async with ChatBot(api, engine, clock=clock) as bot:
        sweep(Scheduling(engine, clock))
        await deliver_all(bot, clock)
        reminder = _reminder(api, FOCAL, "II.1.a")
        assert "Xin gia hạn" in reminder.text
        assert [b["text"] for b in reminder.buttons] == [
            "Báo cáo ngay",
            "Nhắc lại sau",
            "Xin gia hạn",
        ]
        asked = texts(await _press(bot, reminder, FOCAL, "Xin gia hạn"))
        assert "Hạn hiện tại: 04/07/2024" in asked and "đến ngày nào" in asked
        assert "Ngày chưa đúng" in texts(await bot.text(FOCAL, "31/02/2024"))
        assert "Ngày này đã qua" in texts(await bot.text(FOCAL, "30/06/2024"))
        assert "phải sau hạn hiện tại (04/07/2024)" in texts(await bot.text(FOCAL, "03/07/2024"))
        await bot.text(FOCAL, "19/07/2024", expect="lý do")
        summary = texts(await bot.text(FOCAL, "Chờ hướng dẫn của Bộ Tư pháp"))
        assert "Đề nghị gia hạn đến: 19/07/2024" in summary
        assert "Đã gửi đề nghị gia hạn" in texts(await bot.press(FOCAL, "Gửi"))
        await deliver_all(bot, clock)
        notice = bot.last_with_buttons(COORD)
        assert "Đề nghị gia hạn mới" in notice.text and "Sở Tư pháp" in notice.text
        coordinator_button = notice.buttons[0]["callback_data"]

        # a focal point cannot decide: the command, and the coordinator's own button
        assert "không có quyền" in texts(await bot.command(FOCAL, "giahan"))
        own = api.last_message(FOCAL).message_id
        forged = texts(await bot.send(api.make_button_press(FOCAL, own, coordinator_button)))
        assert "không dành cho bạn" in forged

        item = texts(await bot.press(COORD, "Xem đề nghị gia hạn"))
        assert "Xin gia hạn đến: 19/07/2024" in item and "Chờ hướng dẫn của Bộ Tư pháp" in item
        # the coordinator's «Chấp thuận», pressed by the focal point: not theirs
        approve = next(
            b for b in bot.last_with_buttons(COORD).buttons if b["text"] == "Chấp thuận"
        )["callback_data"]
        await bot.send(api.make_button_press(FOCAL, own, approve))
        popup = api.calls_to("answerCallbackQuery")[-1].params.get("text", "")
        assert "không còn hiệu lực" in popup or "không hợp lệ" in popup, popup
        with Session(engine) as session:
            assert session.exec(select(ExtensionRequest)).one().status == "pending"

        decided = texts(await bot.press(COORD, "Chấp thuận"))
        assert "Đã chấp thuận: Sở Tư pháp, nhiệm vụ II.1.a gia hạn đến 19/07/2024" in decided
        assert "Không còn đề nghị gia hạn nào chờ quyết định" in decided  # /duyet, narrowed
        await deliver_all(bot, clock)
        told = api.sent_messages(FOCAL)[-1].text
        assert "đã chấp thuận" in told and "gia hạn đến 19/07/2024" in told
        tasks = texts(await bot.command(FOCAL, "nhiemvu"))
        assert "gia hạn đến 19/07/2024 (hạn cũ 04/07/2024)" in tasks

        # from a report receipt: ask again on II.1.b, and the coordinator refuses with a reason
        await bot.command(FOCAL, "baocao", "II.1.b", expect="Tình trạng")
        await bot.press(FOCAL, "Đang thực hiện", expect="mô tả ngắn")
        await bot.text(FOCAL, "Đang tổng hợp ý kiến các sở", expect="Khó khăn")
        await bot.press(FOCAL, "Bỏ qua", expect="Tài liệu kiểm chứng")
        await bot.press(FOCAL, "Bỏ qua", expect="Xem lại báo cáo")
        receipt = texts(await bot.press(FOCAL, "Gửi", expect="Số biên nhận"))
        assert "bấm «Xin gia hạn»" in receipt
        await bot.press(FOCAL, "Xin gia hạn", expect="Hạn hiện tại: 10/07/2024")
        await bot.text(FOCAL, "25/07/2024", expect="lý do")
        await bot.text(FOCAL, "Thiếu nhân lực", expect="Gửi")
        await bot.press(FOCAL, "Gửi", expect="Đã gửi đề nghị gia hạn")
        await bot.command(COORD, "giahan", expect="Thiếu nhân lực")
        await bot.press(COORD, "Từ chối", expect="lý do từ chối")
        refused = texts(await bot.text(COORD, "Hạn do UBND tỉnh giao, không lùi được"))
        assert "Đã từ chối đề nghị gia hạn của Sở Tư pháp (nhiệm vụ II.1.b)" in refused
        await deliver_all(bot, clock)
        told = api.sent_messages(FOCAL)[-1].text
        assert "không chấp thuận" in told and "Hạn do UBND tỉnh giao, không lùi được" in told
        tasks = texts(await bot.command(FOCAL, "nhiemvu"))
        assert "gia hạn đến 25/07/2024" not in tasks

    with Session(engine) as session:
        rows = session.exec(select(ExtensionRequest).order_by(ExtensionRequest.id)).all()
    assert [(r.status, r.new_date) for r in rows] == [
        ("approved", date(2024, 7, 19)),
        ("rejected", date(2024, 7, 25)),
    ]
    assert rows[1].refusal == "Hạn do UBND tỉnh giao, không lùi được"
    assert [a.outcome for a in _audit(engine, "extension_request")] == ["ok", "ok"]
    assert [a.outcome for a in _audit(engine, "review_approve")] == ["ok"]
    assert [a.outcome for a in _audit(engine, "review_reject")] == ["ok"]
    assert [a.outcome for a in _audit(engine, "command:/giahan")] == ["refused"]
    assert len([a for a in _audit(engine, "button") if a.outcome == "refused"]) >= 1


async def test_absence_in_caidat_and_a_deputy_invited_by_the_focal_point(fake_api, engine):
    api = fake_api
    _due(engine, "II.1.a", date(2024, 7, 4))
    add_contact(engine, "focal", "STP", str(FOCAL), name="Anh Tư pháp")
    clock = FixedClock(vn(date(2024, 7, 1), 9, 0))
    async with ChatBot(api, engine, clock=clock) as bot:
        # a deputy invite for another agency is refused and audited; for its own, a code
        other = texts(await bot.command(FOCAL, "moi", "Sở Tài chính"))
        assert "chính cơ quan của mình" in other
        created = texts(await bot.command(FOCAL, "moi"))
        assert "Mã mời đầu mối thay thế của Sở Tư pháp" in created
        code = created.split("Sở Tư pháp: ", 1)[1].split()[0]
        linked = texts(await bot.command(DEPUTY_USER, "start", code))
        assert "Sở Tư pháp" in linked

        shown = await bot.command(FOCAL, "caidat")
        assert "Lịch vắng: không có" in texts(shown)
        await bot.press(FOCAL, "Đặt lịch vắng", expect="vắng từ ngày nào")
        assert "Ngày bắt đầu đã qua" in texts(await bot.text(FOCAL, "28/06/2024"))
        await bot.text(FOCAL, "01/07/2024", expect="đến hết ngày nào")
        assert "Ngày chưa đúng" in texts(await bot.text(FOCAL, "5/7"))
        assert "phải cùng ngày hoặc sau" in texts(await bot.text(FOCAL, "30/06/2024"))
        confirm = texts(await bot.text(FOCAL, "05/07/2024"))
        assert "gửi tới đầu mối thay thế" in confirm
        assert "Đã lưu lịch vắng" in texts(await bot.press(FOCAL, "Gửi"))

        sweep(Scheduling(engine, clock))  # T−3 of II.1.a: to the deputy, not the main one
        await deliver_all(bot, clock)
        assert any("II.1.a" in c.text for c in api.sent_messages(DEPUTY_USER))
        assert not any("II.1.a" in c.text for c in api.sent_messages(FOCAL))

        shown = texts(await bot.command(FOCAL, "caidat"))
        assert "Lịch vắng: từ 01/07/2024 đến hết 05/07/2024" in shown
        assert "Đã xoá lịch vắng" in texts(await bot.press(FOCAL, "Xoá lịch vắng"))

    with Session(engine) as session:
        deputy = session.exec(select(Contact).where(Contact.user_id == str(DEPUTY_USER))).one()
        seat = session.get(FocalSeat, deputy.id)
        main = session.exec(select(Contact).where(Contact.user_id == str(FOCAL))).one()
        main_seat = session.get(FocalSeat, main.id)
        invites = session.exec(select(Invite)).all()
    assert deputy.role == "focal" and seat is not None and seat.deputy
    assert main_seat is not None and main_seat.away_from is None  # cleared
    assert [i.deputy for i in invites] == [True]  # the refused one was never created
    refused = [a for a in _audit(engine, "deputy_invite") if a.outcome == "refused"]
    assert len(refused) == 1 and '"reason": "other_agency"' in refused[0].detail
    assert [a.outcome for a in _audit(engine, "absence_set")] == ["ok"]
    assert [a.outcome for a in _audit(engine, "absence_clear")] == ["ok"]
