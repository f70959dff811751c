"""A text channel (no buttons, no edits, no documents, 2,000 characters) end to end: the real
dispatcher, the numbered-choice table, the outbox and the delivery worker."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.chat.dispatcher import Dispatcher
from bot.runtime import build_registry
from bot.web.links import WebFileLinks
from core.clock import FixedClock
from core.files import InProcessFileLinks
from scheduler.broadcast import BroadcastProgress, progress_relevance
from scheduler.context import Scheduling
from scheduler.delivery import DeliveryWorker
from scheduler.reminders import reminder_relevance, sweep
from storage.scheduling.broadcast import PROGRESS_KIND
from storage.tables.chat import ChatChoice
from storage.tables.round_documents import RoundSubmission
from storage.tables.scheduling import Broadcast
from storage.tables.shared import Agency, Outbox, StatusReport
from tests.bot.web.support import BASE, client_of, web_of
from tests.support import reports as report_support
from tests.support.chat import T0
from tests.support.scheduling import FAST, MemoryChannel, add_contact, vn
from tests.support.text_channel import TextChannel, TextChat

FOCAL = "501"
PLAN_PDF = b"%PDF-1.7\n% Ke hoach cai thien PAR INDEX 2023 - So Tu phap\n" + b"0" * 500
demo_engine = report_support.demo_engine
demo_template = report_support.demo_template


def number_of(text: str, label: str) -> str:
    """The number a numbered list gives the choice whose label starts with `label`."""
    found = re.search(rf"^(\d+)\. {re.escape(label)}", text, re.MULTILINE)
    assert found, f"no numbered choice {label!r} in:\n{text}"
    return found.group(1)


def dispatcher_for(engine, clock, files=None) -> Dispatcher:
    return Dispatcher(engine, build_registry(), clock, files=files)


async def test_guided_report_by_typed_numbers(engine):
    add_contact(engine, "focal", "STP", FOCAL, channel="text")
    channel = TextChannel()
    chat = TextChat(dispatcher_for(engine, FixedClock(T0)), channel, FOCAL)
    tasks = await chat.type("/baocao")
    assert "1. 📄 Gửi văn bản: Kế hoạch cải thiện" in tasks  # owed to the 05/7 round
    assert "2. I.1 · " in tasks and "Gõ số thứ tự để chọn" in tasks
    status = await chat.type(number_of(tasks, "I.1 · "))
    assert "Tình trạng hiện nay của nhiệm vụ?" in status
    await chat.type(number_of(status, "Hoàn thành"))
    figure = await chat.type("Đã ban hành Kế hoạch số 15/KH-STP")
    assert "Số lượng đạt được" in figure
    assert "1. " not in figure and "“Chưa có số liệu”" in figure  # a number answers this step
    await chat.type("33")  # the figure, not a choice
    files = await chat.type("bỏ qua")
    review = await chat.type(number_of(files, "Bỏ qua"))
    assert "Xem lại báo cáo" in review and "Số liệu: 33" in review
    receipt = await chat.type(number_of(review, "✅ Gửi"))
    assert "Số biên nhận: BC-2024-" in receipt
    outdated = await chat.type("2")
    assert "Số 2 không ứng với lựa chọn nào" in outdated
    with Session(engine) as session:
        [report] = session.exec(select(StatusReport)).all()
    assert report.status == "done" and report.result == "Đã ban hành Kế hoạch số 15/KH-STP"
    assert report.figure.startswith("33")
    assert all(len(s.text) <= 2000 for s in channel.said)


async def test_a_number_not_in_the_latest_list_is_outdated_and_changes_nothing(engine):
    add_contact(engine, "focal", "STP", FOCAL, channel="text")
    chat = TextChat(dispatcher_for(engine, FixedClock(T0)), TextChannel(), FOCAL)
    status = await chat.type("/baocao III.4.1")
    assert "Tình trạng hiện nay" in status
    await chat.type("/nhiemvu")  # a task-list page: its choices are now the latest
    with Session(engine) as session:
        [choices] = session.exec(select(ChatChoice)).all()
    assert (choices.channel, choices.chat_id) == ("text", FOCAL)
    answer = await chat.type("99")
    assert "Số 99 không có trong danh sách lựa chọn mới nhất" in answer


async def deliver(engine, clock, channels, files=None) -> DeliveryWorker:
    ctx = Scheduling(engine, clock)
    worker = DeliveryWorker(
        engine,
        channels,
        clock,
        ctx.calendar,
        relevance={
            "reminder": reminder_relevance(ctx.tz),
            PROGRESS_KIND: progress_relevance(channels),
        },
        files=files,
    )
    worker.listeners.append(BroadcastProgress(engine, worker, clock))
    for _ in range(50):
        if not (await worker.run_once()).handled:
            break
    return worker


async def test_a_rounds_document_by_typed_numbers_and_the_upload_link_after_a_restart(engine):
    """The 05/7 round asks STP for its improvement plan: the reminder's «Gửi văn bản» typed as
    its number after a restart, the file through the upload link the step offers (this channel
    carries no files), number, date and note typed, sent."""
    add_contact(engine, "focal", "STP", FOCAL, channel="text")
    clock = FixedClock(vn(date(2024, 7, 2), 8, 30))  # T−3 of the 05/7 round
    first = TextChannel()
    chat = TextChat(dispatcher_for(engine, clock), first, FOCAL)
    await chat.type("/nhiemvu")  # an older numbered list, replaced by the reminder below
    sweep(Scheduling(engine, clock))
    await deliver(engine, clock, {"text": first})
    reminder = first.to(FOCAL)[-1]
    assert reminder.startswith("⏰ Còn 3 ngày làm việc")
    assert "1. Gửi văn bản" in reminder and "2. Nhắc lại sau" in reminder

    # a restart: a new process, nothing in memory; the mapping is in the database
    second = TextChannel()
    web = web_of(engine, clock)
    dispatcher = dispatcher_for(engine, clock, files=WebFileLinks(web))
    dispatcher.config = replace(dispatcher.config, web_url=BASE)
    web.dispatcher = dispatcher
    chat = TextChat(dispatcher, second, FOCAL)
    asked = await chat.type("1")  # files never reach the bot here: the upload link, unasked
    assert "Bước 1/4: gửi tệp văn bản" in asked
    upload_url = next(w for w in asked.split() if "/u/" in w)
    async with client_of(web) as phone:
        page = await phone.get(upload_url.removeprefix(BASE))
        assert "Gửi văn bản" in page.text and "Kế hoạch cải thiện" in page.text
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        sent = await phone.post(
            upload_url.removeprefix(BASE),
            data={"csrf": csrf},
            files=[("files", ("ke-hoach-STP.pdf", PLAN_PDF, "application/pdf"))],
        )
    assert sent.status_code == 200 and "Đã nhận 1 tệp" in sent.text
    await deliver(engine, clock, {"text": second})
    assert "Bước 2/4" in second.to(FOCAL)[-1] and "ke-hoach-STP.pdf" in second.to(FOCAL)[-1]

    assert "Bước 3/4" in await chat.type("125/KH-STP")
    assert "không phải một ngày có thật" in await chat.type("1/7")
    note = await chat.type("01/07/2024")
    assert "Bước 4/4" in note and "“Bỏ qua”" in note  # a typed step: the label, not a number
    review = await chat.type("bỏ qua")
    assert "Văn bản: số 125/KH-STP, ban hành ngày 01/07/2024" in review
    receipt = await chat.type(number_of(review, "✅ Gửi"))
    assert "Số biên nhận: VB-2024-" in receipt
    with Session(engine) as session:
        [doc] = session.exec(select(RoundSubmission)).all()
        assert session.exec(select(StatusReport)).all() == []
    assert (doc.number, doc.issued_on, doc.file_name) == (
        "125/KH-STP", date(2024, 7, 1), "ke-hoach-STP.pdf",
    )  # fmt: skip
    assert bytes(doc.content) == PLAN_PDF
    assert all(len(s.text) <= 2000 for s in second.said)


async def test_broadcast_to_a_mixed_audience_each_channel_paced_by_its_own_limits(engine):
    coordinator = "900"
    add_contact(engine, "coordinator", "SNV", coordinator, name="Chị Hoa", channel="text")
    with Session(engine) as session:
        codes = session.exec(
            select(Agency.code).where(Agency.kind == "department").order_by(Agency.code)
        ).all()[:16]
    text_ids, telegram_ids = [], []
    for index, code in enumerate(codes):
        chat_id = str(1000 + index)
        channel = "text" if index % 2 else "telegram"
        add_contact(engine, "focal", code, chat_id, channel=channel)
        (text_ids if channel == "text" else telegram_ids).append(chat_id)
    clock = FixedClock(vn(date(2024, 7, 1), 9, 0))
    text = TextChannel()
    chat = TextChat(dispatcher_for(engine, clock), text, coordinator)
    audience = await chat.type("/nhacnho")
    await chat.type(number_of(audience, "Tất cả đầu mối"))
    preview = await chat.type("Đề nghị gửi báo cáo trước 05/7.")
    assert f"Số người nhận: {len(codes)}" in preview
    queued = await chat.type(number_of(preview, "✅ Gửi"))
    assert f"Đã xếp hàng {len(codes)} tin" in queued

    telegram = MemoryChannel(limits=FAST)
    await deliver(engine, clock, {"text": text, "telegram": telegram})
    for chat_id in text_ids:
        assert text.to(chat_id) == ["📢 Nhắc nhở từ Chị Hoa:\n\nĐề nghị gửi báo cáo trước 05/7."]
    for chat_id in telegram_ids:
        assert telegram.to(chat_id) == [
            "📢 Nhắc nhở từ Chị Hoa:\n\nĐề nghị gửi báo cáo trước 05/7."
        ]
    # the text channel's own overall limit (20/s) held, not Telegram's 30
    times = sorted(s.at for s in text.said if s.chat_id in text_ids)
    assert len(times) > 2
    assert (len(times) - 1) / (times[-1] - times[0]) <= 20
    # no live progress on a channel without edits; the tally always
    to_coordinator = text.to(coordinator)
    assert not any(t.startswith("📤") for t in to_coordinator[-2:])
    assert (
        to_coordinator[-1].startswith("✅ Đã gửi xong")
        and f"{len(codes)}/{len(codes)}" in to_coordinator[-1]
    )
    with Session(engine) as session:
        assert session.exec(select(Broadcast)).one().status == "done"
        progress = session.exec(select(Outbox).where(Outbox.kind == PROGRESS_KIND)).one()
    assert progress.status == "cancelled"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PARBOT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


async def test_tonghop_files_arrive_as_links_from_the_file_links_port(demo_engine, data_dir):
    add_contact(demo_engine, "coordinator", "SNV", "77", channel="text")
    links = InProcessFileLinks()
    text = TextChannel()
    chat = TextChat(dispatcher_for(demo_engine, FixedClock(T0), links), text, "77")
    asked = await chat.type("/tonghop")
    answer = await chat.type(number_of(asked, "Đến hôm nay"))
    found = re.findall(r"http://parbot\.test/f/\S+", answer)
    assert len(found) == 3, answer
    served = [links.resolve(link) for link in found]
    names = sorted(doc.file_name.rsplit(".", 1)[1] for _, doc in served)  # type: ignore[misc]
    assert names == ["docx", "png", "xlsx"]
    assert all(doc.path and Path(doc.path).is_file() for _, doc in served)  # type: ignore[misc]


async def test_without_a_web_server_the_files_are_had_from_the_operator(demo_engine, data_dir):
    add_contact(demo_engine, "coordinator", "SNV", "77", channel="text")
    chat = TextChat(dispatcher_for(demo_engine, FixedClock(T0)), TextChannel(), "77")
    asked = await chat.type("/tonghop")
    answer = await chat.type(number_of(asked, "Đến hôm nay"))
    assert "http" not in answer
    assert answer.count("parbot report -f") == 3 and "bộ phận quản trị máy chủ" in answer
