"""The console as a text channel: numbered choices from the database (replies and outbox rows
alike), files as links from the FileLinks port, and the pending question on resume."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

from bot.channels.console.app import ConsoleChat
from bot.channels.console.channel import ConsoleChannel
from bot.chat.dispatcher import Dispatcher
from bot.runtime import build_registry
from core.clock import FixedClock
from core.files import InProcessFileLinks
from scheduler.context import Scheduling
from scheduler.delivery import DeliveryWorker
from scheduler.reminders import reminder_relevance, sweep
from tests.bot.channels.text.test_text_channel import data_dir, number_of  # noqa: F401
from tests.support import reports as report_support
from tests.support.chat import T0
from tests.support.scheduling import vn

demo_engine = report_support.demo_engine
demo_template = report_support.demo_template


class Console:
    """One console session (a process): lines in, what it printed since the last line out."""

    def __init__(self, engine, clock, files=None) -> None:
        self.out = io.StringIO()
        self.dispatcher = Dispatcher(engine, build_registry(), clock, files=files)
        self.channel = ConsoleChannel(self.out)
        self.chat = ConsoleChat(self.dispatcher, self.out, channel=self.channel)
        self.chat.welcome()

    def said(self) -> str:
        text = self.out.getvalue()
        self.out.seek(0)
        self.out.truncate()
        return text

    def type(self, line: str) -> str:
        self.said()
        self.chat.feed(line)
        return self.said()


async def test_console_reminder_button_pressed_by_number_after_restart(engine, tmp_path):
    clock = FixedClock(vn(date(2024, 6, 26), 8, 30))  # T−7 of the 05/7 round
    first = Console(engine, clock)
    first.type(number_of(first.said(), "Đầu mối"))
    first.type("stp")
    first.type("/nhiemvu")  # a numbered list, replaced by the reminder
    sweep(Scheduling(engine, clock))
    ctx = Scheduling(engine, clock)
    worker = DeliveryWorker(
        engine,
        {"console": first.channel},
        clock,
        ctx.calendar,
        relevance={"reminder": reminder_relevance(ctx.tz)},
    )
    while (await worker.run_once()).handled:
        pass
    reminder = first.said()
    assert "⏰ Còn 7 ngày làm việc" in reminder and "1. Gửi văn bản" in reminder

    # a restart: the button list is in the database; the round asks for STP's improvement plan
    second = Console(engine, clock)
    assert "Bước 1/4: gửi tệp văn bản" in second.type("1")
    plan = tmp_path / "ke-hoach-STP.pdf"
    plan.write_bytes(b"%PDF-1.7\n% Ke hoach cai thien PAR INDEX 2023\n")
    assert "Bước 2/4" in second.type(f"/tep {plan}")
    assert "Bước 3/4" in second.type("125/KH-STP")
    assert "không phải một ngày có thật" in second.type("30/6/24")
    assert "Bước 4/4" in second.type("25/06/2024")
    review = second.type("bỏ qua")
    assert "Văn bản: số 125/KH-STP, ban hành ngày 25/06/2024" in review
    assert "Số biên nhận: VB-2024-" in second.type(number_of(review, "✅ Gửi"))


def test_console_resumed_flow_repeats_its_pending_question(engine):
    first = Console(engine, FixedClock(T0))
    first.type(number_of(first.said(), "Đầu mối"))
    first.type("stp")
    status = first.type("/baocao III.4.1")
    assert "mô tả ngắn" in first.type(number_of(status, "Hoàn thành"))

    second = Console(engine, FixedClock(T0))
    resumed = second.said()
    assert "Bạn đang là đầu mối của Sở Tư pháp" in resumed
    assert "mô tả ngắn" in resumed.split("Bạn đang là đầu mối", 1)[1]  # asked again at once
    assert "trên 95%" in second.type("Làm tiếp")  # the answer goes to that question


async def test_console_tonghop_files_arrive_as_links(demo_engine, data_dir):  # noqa: F811
    links = InProcessFileLinks()
    console = Console(demo_engine, FixedClock(T0), links)
    roles = console.said()
    console.type(number_of(roles, "Điều phối viên"))
    console.type("snv")
    asked = console.type("/tonghop")
    answer = console.type(number_of(asked, "Đến hôm nay"))
    found = re.findall(r"http://parbot\.test/f/\S+", answer)
    assert len(found) == 3, answer
    for link in found:
        resolved = links.resolve(link)
        assert resolved is not None and Path(resolved[1].path or "").is_file()
