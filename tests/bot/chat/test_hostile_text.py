"""Hostile text at the boundary: NUL and other controls, invisible-only answers, odd file
names and callback data — the same on SQLite and PostgreSQL, through the fake Bot API."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from core.model import UserRole
from storage.tables.chat import PendingUpload
from storage.tables.shared import AuditLog, Contact, EvidenceFile, StatusReport
from tests.bot.chat.test_robustness import skip_to_summary, start_report
from tests.bot.chat.test_security import link, refusals
from tests.support.chat import ChatBot, invite_code, texts

USER = 4001
NEWCOMER = 4002
PDF = b"%PDF-1.7\n% bien ban\n" + b"1" * 200


def cleaned(engine) -> list[dict]:
    with Session(engine) as session:
        rows = session.exec(select(AuditLog).where(AuditLog.action == "input_cleaned")).all()
        return [json.loads(r.detail)["removed"] for r in rows]


def stored_bytes(engine, column) -> bytes:
    with Session(engine) as session:
        return session.exec(select(column)).one().encode("utf-8")


async def test_nul_in_a_first_name_links_the_account_on_both_databases(any_engine, fake_api):
    api, engine = fake_api, any_engine
    code = invite_code(engine, "STP", UserRole.FOCAL)
    async with ChatBot(api, engine) as bot:
        update = api.make_command(NEWCOMER, "start", code, first_name="Lan\x00\x07 Anh\u202e")
        sent = await bot.send(update, expect="Sở Tư pháp")
    assert "thử lại sau" not in texts(sent)
    assert stored_bytes(engine, Contact.display_name) == b"Lan Anh"
    assert cleaned(engine) == [{"display_name": 3}]


async def test_nul_in_a_result_text_is_removed_and_the_report_is_sent(any_engine, fake_api):
    api, engine = fake_api, any_engine
    link(engine, USER, "STP", UserRole.FOCAL)
    async with ChatBot(api, engine) as bot:
        await start_report(bot)
        await bot.press(USER, "Đang thực hiện", expect="mô tả ngắn")
        await bot.text(USER, "Đã tổ chức\x00 tập huấn\r\ncho\x1b cán bộ")
        await skip_to_summary(bot, engine)
        sent = await bot.press(USER, "Gửi", expect="Số biên nhận")
    assert "thử lại sau" not in texts(sent)
    assert stored_bytes(engine, StatusReport.result) == "Đã tổ chức tập huấn\ncho cán bộ".encode()
    assert {"text": 2} in cleaned(engine)


async def test_invisible_only_answers_count_as_empty(any_engine, fake_api):
    api, engine = fake_api, any_engine
    link(engine, USER, "STP", UserRole.FOCAL)
    async with ChatBot(api, engine) as bot:
        await start_report(bot)
        await bot.press(USER, "Đang thực hiện", expect="mô tả ngắn")
        for invisible in ("\u200c\u200d", "\u2060", "\u202e", "\ufeff", "\u00ad \u3164", "\x00"):
            sent = await bot.text(USER, invisible, expect="Câu trả lời đang trống")
            assert "mô tả ngắn" in sent[-1].text  # asked again
        await bot.text(USER, "Có nội dung thật", expect="trên 95%")
        await skip_to_summary(bot, engine)
        await bot.press(USER, "Gửi", expect="Số biên nhận")
    with Session(engine) as session:
        assert session.exec(select(StatusReport.result)).one() == "Có nội dung thật"
    # every refusal is audited: invisible-only answers as refused, removed controls as cleaned
    refused = [json.loads(r.detail) for r in refusals(engine, "input_refused")]
    assert [r["codepoints"] for r in refused] == [
        ["U+200C", "U+200D"],
        ["U+2060"],
        ["U+00AD", "U+0020", "U+3164"],
    ]
    assert cleaned(engine) == [{"text": 1}, {"text": 1}, {"text": 1}]  # U+202E, BOM, NUL


async def test_nul_in_a_file_name_and_a_long_name_keep_their_extension(any_engine, fake_api):
    api, engine = fake_api, any_engine
    link(engine, USER, "STP", UserRole.FOCAL)
    long_name = "Biên bản kiểm tra công tác cải cách hành chính " * 8 + ".pdf"
    assert len(long_name.encode()) > 255
    async with ChatBot(api, engine) as bot:
        await start_report(bot)
        await bot.press(USER, "Đang thực hiện")
        await bot.text(USER, "Đang làm")
        await bot.press(USER, "Chưa có số liệu")
        await bot.press(USER, "Bỏ qua", expect="Tài liệu kiểm chứng")
        doc = api.make_document(USER, "bien\x00ban\u202e.pdf", PDF, "application/pdf")
        await bot.send(doc, expect="Đã nhận “bienban.pdf”")
        await bot.send(api.make_document(USER, long_name, PDF + b"2", "application/pdf"))
        await bot.press(USER, "Xong", expect="Xem lại báo cáo")
        await bot.press(USER, "Gửi", expect="Số biên nhận")
    with Session(engine) as session:
        names = session.exec(select(EvidenceFile.file_name).order_by(EvidenceFile.id)).all()
    assert names[0] == "bienban.pdf"
    assert names[1].endswith(".pdf") and len(names[1].encode()) <= 255
    assert names[1].startswith("Biên bản kiểm tra")
    assert {"file_name": 2} in cleaned(engine)


async def test_nul_in_callback_data_is_refused_and_audited_on_both_databases(any_engine, fake_api):
    api, engine = fake_api, any_engine
    link(engine, USER, "STP", UserRole.FOCAL)
    async with ChatBot(api, engine) as bot:
        await bot.command(USER, "help", expect="/baocao")
        message_id = api.last_message(USER).message_id
        press = api.make_button_press(USER, message_id, "tok\x00en")
        sent = await bot.send(press)
    assert "thử lại sau" not in texts(sent)
    [refusal] = refusals(engine, "button")
    assert refusal.target == "token" and json.loads(refusal.detail) == {"reason": "token"}
    assert cleaned(engine) == [{"button": 1}]


async def test_an_executable_named_pdf_is_refused_naming_the_allowed_types(engine, fake_api):
    api = fake_api
    link(engine, USER, "STP", UserRole.FOCAL)
    async with ChatBot(api, engine) as bot:
        await start_report(bot)
        await bot.press(USER, "Đang thực hiện")
        await bot.text(USER, "Đang làm")
        await bot.press(USER, "Chưa có số liệu")
        await bot.press(USER, "Bỏ qua", expect="Tài liệu kiểm chứng")
        exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120 + b"This program cannot be run"
        sent = await bot.send(
            api.make_document(USER, "bien-ban.pdf", exe, "application/pdf"),
            expect="không đúng với đuôi .pdf",
        )
        assert "PDF" in texts(sent) and "DOCX" in texts(sent)
        # a .docx that is really a zip of something else, and an old .doc that is not OLE
        sent = await bot.send(
            api.make_document(USER, "bao-cao.doc", PDF, "application/msword"),
            expect="không đúng với đuôi .doc",
        )
        await bot.send(api.make_document(USER, "ok.pdf", PDF, "application/pdf"), expect="Đã nhận")
    with Session(engine) as session:
        assert [u.file_name for u in session.exec(select(PendingUpload))] == ["ok.pdf"]
    audited = [json.loads(r.detail) for r in refusals(engine, "input_refused")]
    assert [(a["file_name"], a["reason"]) for a in audited] == [
        ("bien-ban.pdf", "mismatch"),
        ("bao-cao.doc", "mismatch"),
    ]


async def test_a_failed_download_is_told_as_a_failed_download(engine, fake_api):
    api = fake_api
    link(engine, USER, "STP", UserRole.FOCAL)
    async with ChatBot(api, engine) as bot:
        await start_report(bot)
        await bot.press(USER, "Đang thực hiện")
        await bot.text(USER, "Đang làm")
        await bot.press(USER, "Chưa có số liệu")
        await bot.press(USER, "Bỏ qua", expect="Tài liệu kiểm chứng")
        api.fail_next(
            "getFile", status=400, description="Bad Request: file is temporarily unavailable"
        )
        sent = await bot.send(
            api.make_document(USER, "bien-ban.pdf", PDF, "application/pdf"),
            expect="Không tải được tệp",
        )
    assert "quá lớn" not in texts(sent) and "gửi lại" in texts(sent)
    [audited] = [json.loads(r.detail) for r in refusals(engine, "input_refused")]
    assert audited["why"] == "file_download_failed" and audited["file_name"] == "bien-ban.pdf"
