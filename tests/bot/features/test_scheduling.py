"""Scheduling in chat, on the real PTB Application and the fake Bot API.

/caidat shows the digest setting and a press changes it; /nhacnho composes a broadcast that
is delivered with one progress message edited and a tally; /kybaocao creates and edits
rounds; a reminder's buttons snooze once and open the report flow on the task; other
people's buttons and roles are refused.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from bot.channels.telegram.channel import TelegramChannel
from core.clock import FixedClock
from scheduler.broadcast import BroadcastProgress
from scheduler.context import Scheduling
from scheduler.delivery import DeliveryWorker
from scheduler.reminders import reminder_relevance, sweep
from storage.db import transaction
from storage.tables.scheduling import Broadcast, Snooze
from storage.tables.shared import (
    AuditLog,
    Contact,
    Outbox,
    ReportingRound,
)
from tests.support.chat import ChatBot, texts
from tests.support.scheduling import add_contact, send_round_document, vn

COORD, FOCAL_STP, FOCAL_STC, FOCAL_SNV, LEADER = 7001, 7002, 7003, 7004, 7005


def people(engine) -> None:
    add_contact(engine, "coordinator", "SNV", str(COORD), name="Chị Hoa (SNV)")
    add_contact(engine, "focal", "STP", str(FOCAL_STP), name="Anh Tư pháp")
    add_contact(engine, "focal", "STC", str(FOCAL_STC), name="Chị Tài chính")
    add_contact(engine, "focal", "SNV", str(FOCAL_SNV), name="Anh Nội vụ")
    add_contact(engine, "leader", "STP", str(LEADER), name="Giám đốc STP")


async def deliver_all(bot: ChatBot, clock) -> DeliveryWorker:
    ctx = Scheduling(bot.engine, clock)
    channel = TelegramChannel(bot.app.bot)
    worker = DeliveryWorker(
        bot.engine,
        {"telegram": channel},
        clock,
        ctx.calendar,
        relevance={"reminder": reminder_relevance(ctx.tz)},
    )
    worker.listeners.append(BroadcastProgress(bot.engine, worker, clock))
    for _ in range(20):
        result = await worker.run_once()
        if not result.handled:
            break
    return worker


async def test_caidat_shows_the_settings_first_and_a_press_changes_them(fake_api, engine):
    people(engine)
    async with ChatBot(fake_api, engine) as bot:
        shown = await bot.command(LEADER, "caidat")
        with Session(engine) as session:  # looking changes nothing
            leader = session.exec(select(Contact).where(Contact.user_id == str(LEADER))).one()
            assert leader.digest_muted is False
        assert "Bản tin hằng ngày (lúc 07:30 các ngày làm việc): đang bật" in texts(shown)
        assert [b["text"] for b in shown[-1].buttons] == ["🔕 Tắt bản tin hằng ngày"]
        first = texts(await bot.press(LEADER, "Tắt bản tin"))
        again = await bot.command(LEADER, "caidat")
        assert "đang tắt" in texts(again)
        second = texts(await bot.press(LEADER, "Bật bản tin"))
    assert "Đã tắt bản tin" in first and "Đã bật bản tin" in second
    with Session(engine) as session:
        leader = session.exec(select(Contact).where(Contact.user_id == str(LEADER))).one()
        assert leader.digest_muted is False
        audits = session.exec(select(AuditLog).where(AuditLog.action == "digest_mute")).all()
    assert [json.loads(a.detail)["muted"] for a in audits] == [True, False]


async def test_nhacnho_is_for_coordinators_only(fake_api, engine):
    people(engine)
    async with ChatBot(fake_api, engine) as bot:
        refused = texts(await bot.command(FOCAL_STP, "nhacnho"))
        refused_leader = texts(await bot.command(LEADER, "kybaocao"))
    assert "không có quyền" in refused and "không có quyền" in refused_leader
    with Session(engine) as session:
        assert session.exec(select(Broadcast)).first() is None


async def test_broadcast_to_not_yet_reported_with_preview_progress_and_tally(fake_api, engine):
    people(engine)
    api = fake_api
    api.block_chat(FOCAL_STC)  # STC's focal point blocked the bot: counted in the tally
    # SNV already sent its improvement plan for round KH-CAITHIEN-2024 (it asks for a document)
    send_round_document(engine, "SNV", datetime(2024, 6, 28, 3, tzinfo=UTC))
    async with ChatBot(fake_api, engine) as bot:
        await bot.command(COORD, "nhacnho", expect="Gửi nhắc nhở tới ai")
        await bot.press(COORD, "Chưa báo cáo kỳ", expect="Chọn kỳ báo cáo")
        await bot.press(COORD, "Kế hoạch cải thiện", expect="Nội dung nhắc nhở")
        preview = texts(await bot.text(COORD, "Đề nghị gửi Kế hoạch cải thiện trước 05/7."))
        assert "Số người nhận: 2" in preview and "Đề nghị gửi Kế hoạch" in preview
        queued = texts(await bot.press(COORD, "Gửi"))
        assert "Đã xếp hàng 2 tin" in queued
        await deliver_all(bot, bot.clock)

    got = [c.text for c in api.sent_messages(FOCAL_STP)]
    assert got == ["📢 Nhắc nhở từ Chị Hoa (SNV):\n\nĐề nghị gửi Kế hoạch cải thiện trước 05/7."]
    assert api.sent_messages(FOCAL_SNV) == []  # reported: not in the audience
    coordinator = api.sent_messages(COORD)
    progress = [c for c in coordinator if c.method == "editMessageText"]
    assert progress and "Đã gửi 1/2" in progress[-1].text and "Hoàn tất" in progress[-1].text
    tally = [c.text for c in coordinator if c.text.startswith("✅ Đã gửi xong")]
    assert len(tally) == 1 and "1/2" in tally[0] and "đã chặn bot" in tally[0]
    with Session(engine) as session:
        actions = [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id)).all()]
        broadcast = session.exec(select(Broadcast)).one()
    assert "broadcast" in actions and "broadcast_done" in actions
    assert broadcast.status == "done" and broadcast.total == 2


async def test_hand_picked_audience_needs_known_agencies(fake_api, engine):
    people(engine)
    async with ChatBot(fake_api, engine) as bot:
        await bot.command(COORD, "nhacnho")
        await bot.press(COORD, "Chọn cơ quan")
        unclear = texts(await bot.text(COORD, "tư pháp, xyz không có"))
        assert "Chưa xác định được cơ quan: xyz không có" in unclear
        nobody = texts(await bot.text(COORD, "Sở Y tế"))  # known agency, but no focal point
        assert "Không có đầu mối nào" in nobody
        await bot.text(COORD, "tu phap; SO TAI CHINH", expect="Nội dung nhắc nhở")
        preview = texts(await bot.text(COORD, "Họp giao ban thứ Sáu."))
        assert "Số người nhận: 2" in preview and "STP, STC" in preview
        await bot.press(COORD, "Huỷ")
    with Session(engine) as session:
        assert session.exec(select(Broadcast)).first() is None
        assert session.exec(select(Outbox)).first() is None


async def test_kybaocao_creates_and_edits_rounds(fake_api, engine):
    people(engine)
    async with ChatBot(fake_api, engine) as bot:
        await bot.command(COORD, "kybaocao")
        await bot.press(COORD, "Tạo kỳ báo cáo mới", expect="Tên kỳ báo cáo")
        await bot.text(COORD, "Báo cáo 6 tháng đầu năm", expect="Hạn gửi")
        past = texts(await bot.text(COORD, "01/01/2024"))
        assert "Ngày này đã qua" in past
        await bot.text(COORD, "19/07/2024", expect="Cơ quan nào")
        await bot.press(COORD, "Theo loại cơ quan", expect="Chọn loại")
        await bot.press(COORD, "UBND cấp huyện", expect="Mỗi cơ quan gửi gì")
        await bot.press(COORD, "Báo cáo tiến độ", expect="Yêu cầu nội dung")
        await bot.press(COORD, "Bỏ qua", expect="lặp lại")
        summary = texts(await bot.press(COORD, "Một lần"))
        assert "UBND cấp huyện" in summary and "19/07/2024" in summary
        created = texts(await bot.press(COORD, "Gửi"))
        assert "Đã tạo kỳ báo cáo" in created

        await bot.command(COORD, "kybaocao")
        await bot.press(COORD, "Kế hoạch cải thiện", expect="làm gì")
        await bot.press(COORD, "Đổi hạn")
        await bot.text(COORD, "12/07/2024", expect="Đổi hạn từ 05/07/2024")
        assert "12/07/2024" in texts(await bot.press(COORD, "Gửi"))
    with Session(engine) as session:
        rounds = {r.title: r for r in session.exec(select(ReportingRound)).all()}
    new = rounds["Báo cáo 6 tháng đầu năm"]
    assert new.deadline == date(2024, 7, 19) and json.loads(new.audience) == {"kinds": ["district"]}
    assert new.opens_on == date(2024, 7, 1)
    kh = next(r for r in rounds.values() if r.code == "KH-CAITHIEN-2024")
    assert kh.deadline == date(2024, 7, 12)


async def test_reminder_buttons_snooze_once_and_open_the_report_flow(fake_api, engine):
    people(engine)
    with transaction(engine) as session:  # here an agency-level round asking task statuses
        row = session.exec(
            select(ReportingRound).where(ReportingRound.code == "KH-CAITHIEN-2024")
        ).one()
        row.asks = "status"
    api = fake_api
    clock = FixedClock(vn(date(2024, 6, 26), 8, 30))  # T−7 of the 05/7 round
    async with ChatBot(fake_api, engine, clock=clock) as bot:
        sweep(Scheduling(engine, clock))
        await deliver_all(bot, clock)
        reminder = bot.last_with_buttons(FOCAL_STP)
        assert reminder.text.startswith("⏰ Còn 7 ngày làm việc")
        labels = [b["text"] for b in reminder.buttons]
        assert labels == ["Báo cáo ngay", "Nhắc lại sau"]
        snooze_data = reminder.buttons[1]["callback_data"]

        # somebody else pressing STP's button is refused and changes nothing
        forged = api.make_button_press(FOCAL_STC, reminder.message_id, snooze_data)
        assert "không hợp lệ" in texts(await bot.send(forged))

        snoozed = texts(await bot.press(FOCAL_STP, "Nhắc lại sau"))
        assert "sẽ nhắc lại vào thứ Năm, 27/06/2024" in snoozed
        update = api.make_button_press(FOCAL_STP, reminder.message_id, snooze_data)
        assert "đã được hẹn lại một lần" in texts(await bot.send(update))

        # "Báo cáo ngay" on an agency-level round: pick one of STP's tasks, then report on it
        picked = await bot.press(FOCAL_STP, "Báo cáo ngay")
        assert "Chọn nhiệm vụ để báo cáo (Sở Tư pháp)" in texts(picked)
        first_task = picked[-1].buttons[0]["text"]
        report = texts(await bot.press(FOCAL_STP, first_task.split(":")[0]))
        assert "Tình trạng hiện nay của nhiệm vụ?" in report
        assert f"Nhiệm vụ {first_task.split(':')[0]}" in report

        # the next working day the snoozed reminder comes again, once
        clock.set(vn(date(2024, 6, 27), 8, 30))
        sweep(Scheduling(engine, clock))
        sweep(Scheduling(engine, clock))
        await deliver_all(bot, clock)
    again = [c.text for c in api.sent_messages(FOCAL_STP) if c.text.startswith("🔁")]
    assert len(again) == 1 and "Kế hoạch cải thiện" in again[0]
    with Session(engine) as session:
        assert len(session.exec(select(Snooze)).all()) == 1
