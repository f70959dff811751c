"""The Zalo Bot Platform scenario through the real dispatcher and the fake Bot Platform:
link by `/start CODE` and by the bare code → /nhiemvu → /baocao by typed numbers (restart at a
typed-text step) → evidence by the upload link the step offers and as a chat image → receipt;
a replayed message id does nothing."""

from __future__ import annotations

import copy
import logging
import re
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from bot.app import RedactingFormatter, secrets_of
from bot.settings import Settings
from bot.web.links import WebFileLinks
from core.model import UserRole
from core.outgoing import Button, Outgoing
from storage.chat.buttons import issue_button
from storage.outbox import OutboxItem, enqueue
from storage.tables.shared import Agency, Assignment, Contact, EvidenceFile, StatusReport
from tests.bot.channels.zalo_bot.support import ZaloChat
from tests.bot.channels.zalo_bot.test_channel import Links
from tests.bot.web.support import client_of, web_of
from tests.bot.web.test_links import PDF, upload
from tests.fakes.zalo.bot import FakeZaloBot
from tests.support.chat import invite_code

FOCAL, LEADER = "6ede9afa66b88fe6d6a9", "7fef0b0b77c99ff7e7ba"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 30


async def test_zalo_focal_point_links_lists_and_reports_by_numbers(any_engine, caplog):
    caplog.set_level(logging.DEBUG)
    # httpx at DEBUG too, whatever an earlier test's configure_logging left it at: the
    # token must be in what it logs for the redaction below to prove anything
    caplog.set_level(logging.DEBUG, logger="httpx")
    engine = any_engine
    with FakeZaloBot() as api:
        chat = ZaloChat(api, engine)
        web = web_of(engine, chat.clock)
        chat.files = WebFileLinks(web)  # the web companion's signed links (PARBOT_WEB_URL set)
        await chat.start()
        web.dispatcher = chat.dispatcher
        try:
            # 1. linking: /start CODE, and a bare code typed by another user
            code = invite_code(engine, "STP", UserRole.FOCAL)
            await chat.text(FOCAL, f"/start {code}", expect="Đã liên kết")
            bare = invite_code(engine, "STP", UserRole.LEADER)
            await chat.text(LEADER, bare.lower(), expect="Đã liên kết")
            with Session(engine) as session:
                stp = session.exec(select(Agency).where(Agency.code == "STP")).one()
                contacts = session.exec(select(Contact).where(Contact.channel == "zalo")).all()
            assert {(c.user_id, c.chat_id, c.role, c.agency_id) for c in contacts} == {
                (FOCAL, FOCAL, "focal", stp.id),
                (LEADER, LEADER, "leader", stp.id),
            }

            # 2. /nhiemvu: text only, within 2,000 characters a message
            said = await chat.text(FOCAL, "/nhiemvu", expect="Nhiệm vụ của Sở Tư pháp")
            assert all(len(c.text) <= 2000 for c in api.sent(FOCAL))
            assert "<b>" not in said

            # 3. the guided report, choices typed as numbers
            await chat.text(FOCAL, "/baocao", expect="Chọn nhiệm vụ")
            await chat.text(FOCAL, "III.4.1", expect="Tình trạng hiện nay")
            await chat.restart()  # at a numbered step: the numbers offered are in the database
            number = chat.number_of(FOCAL, "Đang thực hiện")
            await chat.text(FOCAL, number, expect="mô tả ngắn")
            await chat.restart()  # mid-flow: the state is in the database
            await chat.text(FOCAL, "Đã giải quyết đúng hạn 965/1.000 hồ sơ", expect="trên 95%")
            await chat.text(FOCAL, "96,5", expect="Khó khăn")
            # a typed-text step offers its one label to type, not a number
            asked = await chat.text(FOCAL, "Bỏ qua", expect="Tài liệu kiểm chứng")

            # 4. evidence: files sent in Zalo never reach a bot, so the step itself offers a
            # signed upload link for this report (the web companion's); a PDF goes through it
            [upload_url] = [w for w in asked.split() if "/u/" in w]
            async with client_of(web) as phone:
                done = await upload(phone, upload_url, [("ke-hoach.pdf", PDF, "application/pdf")])
            assert done.status_code == 200 and "Đã nhận 1 tệp" in done.text
            mark = api.mark()
            assert await chat.deliver() == 1  # "received on the web" goes to the Zalo chat
            [told] = api.sent(FOCAL, since=mark)
            assert "qua trang web" in told.text and "ke-hoach.pdf" in told.text
            # …and an image sent in the chat, downloaded at once
            sent = await chat.send(api.make_image(FOCAL, JPEG))
            assert any("Đã nhận" in c.text for c in sent), [c.text for c in sent]
            await chat.text(FOCAL, chat.number_of(FOCAL, "Xong"), expect="Xem lại báo cáo")
            said = await chat.text(FOCAL, chat.number_of(FOCAL, "Gửi"), expect="Số biên nhận")
            receipt = re.search(r"Số biên nhận: (BC-2024-\d{6})", said).group(1)

            with Session(engine) as session:
                report = session.exec(select(StatusReport)).one()
                evidence = session.exec(select(EvidenceFile).order_by(EvidenceFile.id)).all()
            assert (report.receipt, report.status, report.figure) == (
                receipt,
                "in_progress",
                "96,5%",
            )
            assert [(e.file_name, bytes(e.content)) for e in evidence][0] == ("ke-hoach.pdf", PDF)
            assert bytes(evidence[1].content) == JPEG and len(evidence) == 2
            assert {e.report_id for e in evidence} == {report.id}

            # 5. a replayed message id (Zalo resends the same event) changes and sends nothing
            send_event = next(
                u for u in api.delivered if u["message"].get("text") == chat.number_of(FOCAL, "Gửi")
            )
            mark = api.mark()
            await chat.send(copy.deepcopy(send_event))
            await chat.restart()  # a new process has no memory: the database still knows
            await chat.send(copy.deepcopy(send_event))
            assert api.sent(FOCAL, since=mark) == []
            with Session(engine) as session:
                assert session.exec(select(func.count()).select_from(StatusReport)).one() == 1
        finally:
            await chat.stop()
    # the token is in every request URL: parbot's own loggers never print it, and the
    # production formatter (bot/app.py) removes it from anything a library logs
    secret = api.token.split(":", 1)[1]
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("parbot")]
    assert ours and not any(secret in line for line in ours)
    settings = Settings(_env_file=None, ZALO_BOT_TOKEN=api.token)
    formatter = RedactingFormatter(logging.Formatter("%(name)s %(message)s"), secrets_of(settings))
    assert any(secret in r.getMessage() for r in caplog.records)  # httpx at DEBUG does log it
    assert not any(secret in formatter.format(r) for r in caplog.records)


async def test_zalo_coordinator_gets_the_compiled_report_files_as_links(engine):
    links = Links()
    with FakeZaloBot() as api:
        chat = await ZaloChat(api, engine, links).start()
        try:
            code = invite_code(engine, "SNV", UserRole.COORDINATOR)
            await chat.text(FOCAL, code, expect="Đã liên kết")  # the bare code
            await chat.text(FOCAL, "/tonghop", expect="Đến hôm nay")
            said = await chat.text(FOCAL, chat.number_of(FOCAL, "Đến hôm nay"), timeout=120)
            assert api.calls_to("sendChatAction"), "the slow report shows 'typing' first"
        finally:
            await chat.stop()
    names = [name for _contact, name in links.issued]
    assert any(n.endswith(".xlsx") for n in names) and any(n.endswith(".docx") for n in names)
    for name in names:
        if not name.endswith(".png"):
            assert "https://parbot.example.gov.vn/f/" in said and name in said
    photos = api.calls_to("sendPhoto")
    assert all(p.params["photo"].startswith("https://parbot.example.gov.vn/f/") for p in photos)


async def test_a_reminders_report_now_is_pressed_by_typing_its_number(any_engine):
    engine = any_engine
    with FakeZaloBot() as api:
        chat = await ZaloChat(api, engine).start()
        try:
            code = invite_code(engine, "STP", UserRole.FOCAL)
            await chat.text(FOCAL, f"/start {code}", expect="Đã liên kết")
            with Session(engine) as session:
                contact = session.exec(select(Contact).where(Contact.user_id == FOCAL)).one()
                task_id = session.exec(
                    select(Assignment.task_id).where(Assignment.agency_id == contact.agency_id)
                ).first()
                args = {"task_id": task_id, "agency_id": contact.agency_id}
                now = chat.clock.now()
                report = issue_button(
                    session, contact.id, "report_task", args, timedelta(days=3), now
                )
                later = issue_button(session, contact.id, "snooze", {}, timedelta(days=3), now)
                # a reminder as the scheduler writes it: into the outbox, for the worker
                reminder = Outgoing(
                    "Nhắc hạn nhiệm vụ",
                    [[Button("Báo cáo ngay", report), Button("Nhắc lại sau", later)]],
                )
                item = OutboxItem("reminder:t", "zalo", FOCAL, reminder, contact.id, "reminder")
                enqueue(session, item, now)
                session.commit()
            assert await chat.deliver() == 1  # the worker remembers the numbers it sent
            assert api.sent(FOCAL)[-1].text.endswith("1. Báo cáo ngay\n2. Nhắc lại sau")
            await chat.text(
                FOCAL, chat.number_of(FOCAL, "Báo cáo ngay"), expect="Tình trạng hiện nay"
            )
        finally:
            await chat.stop()
