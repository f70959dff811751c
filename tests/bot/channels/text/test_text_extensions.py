"""«Xin gia hạn» and /giahan on a text channel (numbered choices, no buttons): the same flows,
answered by typed numbers, and a focal point's typed number stays in its own chat's list."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from core.clock import FixedClock
from scheduler.context import Scheduling
from scheduler.reminders import sweep
from storage.db import transaction
from storage.tables.extensions import ExtensionRequest
from storage.tables.shared import Task
from tests.bot.channels.text.test_text_channel import deliver, dispatcher_for, number_of
from tests.support.scheduling import add_contact, vn
from tests.support.text_channel import TextChannel, TextChat

FOCAL, COORD = "521", "522"


async def test_extension_asked_and_approved_by_typed_numbers(engine):
    with transaction(engine) as session:
        task = session.exec(select(Task).where(Task.ref == "II.1.a")).one()
        task.due_date = date(2024, 7, 8)  # T−3 on Wednesday 03/07, a day without other reminders
        session.add(task)
    add_contact(engine, "focal", "STP", FOCAL, channel="text")
    add_contact(engine, "coordinator", "SNV", COORD, name="Chị Hoa", channel="text")
    clock = FixedClock(vn(date(2024, 7, 3), 9, 0))
    channel = TextChannel()
    dispatcher = dispatcher_for(engine, clock)
    focal, coordinator = TextChat(dispatcher, channel, FOCAL), TextChat(dispatcher, channel, COORD)
    sweep(Scheduling(engine, clock))
    await deliver(engine, clock, {"text": channel})
    reminder = channel.to(FOCAL)[-1]
    assert "II.1.a" in reminder and "3. Xin gia hạn" in reminder

    asked = await focal.type(number_of(reminder, "Xin gia hạn"))
    assert "Hạn hiện tại: 08/07/2024" in asked
    assert "Ngày chưa đúng" in await focal.type("32/07/2024")
    await focal.type("22/07/2024")
    confirm = await focal.type("Chờ số liệu của các huyện")
    assert "Đã gửi đề nghị gia hạn" in await focal.type(number_of(confirm, "✅ Gửi"))
    await deliver(engine, clock, {"text": channel})
    notice = channel.to(COORD)[-1]
    assert "Đề nghị gia hạn mới" in notice and "1. Xem đề nghị gia hạn" in notice

    item = await coordinator.type("1")
    assert "Xin gia hạn đến: 22/07/2024" in item
    # the focal point types the number that is «Chấp thuận» in the coordinator's list
    typed = await focal.type(number_of(item, "Chấp thuận"))
    assert "Chấp thuận" not in typed
    with Session(engine) as session:
        assert session.exec(select(ExtensionRequest)).one().status == "pending"
    done = await coordinator.type(number_of(item, "Chấp thuận"))
    assert "Đã chấp thuận: Sở Tư pháp, nhiệm vụ II.1.a gia hạn đến 22/07/2024" in done
    await deliver(engine, clock, {"text": channel})
    assert "gia hạn đến 22/07/2024" in channel.to(FOCAL)[-1]
    with Session(engine) as session:
        assert session.exec(select(ExtensionRequest)).one().status == "approved"
