"""A round's document on Zalo's Bot Platform, which never delivers files to a bot: the
document flow's file step offers its signed upload link unasked (as the report's evidence step
does), the .docx goes through the web companion, the flow goes on in the Zalo chat (number,
date of issue, note) and the submission is stored for the round."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from bot.web.links import WebFileLinks
from core.model import UserRole
from storage.tables.round_documents import RoundSubmission
from tests.bot.channels.zalo_bot.support import ZaloChat
from tests.bot.features.test_round_documents import plan_docx
from tests.bot.web.support import client_of, web_of
from tests.bot.web.test_links import upload
from tests.fakes.zalo.bot import FakeZaloBot
from tests.support.chat import invite_code

FOCAL = "5cdc8e9e44a66dd5c4b8"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def test_zalo_focal_point_sends_the_rounds_document_through_the_offered_link(engine):
    content = plan_docx()
    with FakeZaloBot() as api:
        chat = ZaloChat(api, engine)
        web = web_of(engine, chat.clock)
        chat.files = WebFileLinks(web)
        await chat.start()
        web.dispatcher = chat.dispatcher
        try:
            code = invite_code(engine, "STP", UserRole.FOCAL)
            await chat.text(FOCAL, f"/start {code}", expect="Đã liên kết")
            await chat.text(FOCAL, "/baocao", expect="Cơ quan còn phải gửi văn bản")
            asked = await chat.text(FOCAL, chat.number_of(FOCAL, "Gửi văn bản"), expect="Bước 1/4")
            assert "không đến được hệ thống" in asked and "/web" not in asked
            [upload_url] = [w for w in asked.split() if "/u/" in w]
            async with client_of(web) as phone:
                done = await upload(phone, upload_url, [("KH-STP.docx", content, DOCX)])
            assert done.status_code == 200, done.text
            mark = api.mark()
            assert await chat.deliver() >= 1  # the flow's answer goes to the Zalo chat
            told = " ".join(c.text for c in api.sent(FOCAL, since=mark))
            assert "KH-STP.docx" in told and "Bước 2/4" in told
            await chat.text(FOCAL, "125/KH-STP", expect="Bước 3/4")
            await chat.text(FOCAL, "28/06/2024", expect="Bước 4/4")
            await chat.text(FOCAL, "Bỏ qua", expect="Gửi")  # a typed-text step: its label
            said = await chat.text(FOCAL, chat.number_of(FOCAL, "Gửi"), expect="Số biên nhận")
            assert "VB-2024-" in said
        finally:
            await chat.stop()
    with Session(engine) as session:
        [sent] = session.exec(select(RoundSubmission)).all()
    assert (sent.number, sent.issued_on, sent.file_name) == (
        "125/KH-STP", date(2024, 6, 28), "KH-STP.docx",
    )  # fmt: skip
    assert bytes(sent.content) == content and sent.status == "submitted"
