"""The end-to-end scenario of issue 3, on the real PTB Application and the fake Bot API.

admin bootstrap (CLI) → admin links in chat → invite for Sở Tư pháp's focal point → /start CODE
→ /nhiemvu lists exactly STP's assignments → /baocao to "Gửi" with a file attached, the bot
restarted between two steps → report and file in the database → replayed updates change nothing.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import re

from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app as cli
from storage.tables.chat import ChatFlow, Invite, PendingUpload
from storage.tables.shared import (
    Agency,
    Assignment,
    AuditLog,
    Contact,
    EvidenceFile,
    StatusReport,
    Task,
)
from tests.support.chat import ChatBot, texts

ADMIN, FOCAL = 1001, 2002
PDF = b"%PDF-1.4\n% ket qua giai quyet ho so\n" + bytes(range(256)) * 40


def cli_env(engine, api) -> dict[str, str]:
    return {
        "PARBOT_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.base_url,
        "TELEGRAM_BOT_USERNAME": "",
    }


def stp_refs(engine) -> set[str]:
    with Session(engine) as session:
        stp = session.exec(select(Agency).where(Agency.code == "STP")).one()
        rows = session.exec(
            select(Task.ref)
            .join(Assignment, Assignment.task_id == Task.id)
            .where(Assignment.agency_id == stp.id)
        ).all()
    return set(rows)


async def test_scenario_admin_invite_tasks_report_restart_replay(any_engine, fake_api):
    """On SQLite (dispatcher on the event loop) and PostgreSQL (dispatcher in worker threads)."""
    api, engine = fake_api, any_engine
    runner = CliRunner()
    # 1. the first admin comes from the CLI; the link is built from getMe on the Bot API
    result = await asyncio.to_thread(
        runner.invoke,
        cli,
        ["admin", "bootstrap", "--agency", "SNV", "--json"],
        env=cli_env(engine, api),
    )
    assert result.exit_code == 0, result.output
    bootstrap = json.loads(result.stdout)
    assert bootstrap["link"] == f"https://t.me/{api.bot_username}?start={bootstrap['code']}"
    with Session(engine) as session:
        stored = session.exec(select(Invite)).one()
    assert bootstrap["code"] not in stored.code_hash  # only a hash is stored
    assert stored.code_hash == hashlib.sha256(bootstrap["code"].encode()).hexdigest()

    async with ChatBot(api, engine) as bot:
        # command menus were published at start-up
        assert api.commands(), "setMyCommands was not called for the default scope"

        # 2. the admin opens the deep link
        sent = await bot.command(ADMIN, "start", bootstrap["code"], expect="Đã liên kết")
        assert "quản trị viên" in texts(sent)

        # 3. the admin invites Sở Tư pháp's focal point from chat
        sent = await bot.command(ADMIN, "moi", "STP focal", expect="Mã mời")
        code = re.search(r"Mã mời đầu mối cho Sở Tư pháp: (\w+)", texts(sent)).group(1)
        assert f"https://t.me/{api.bot_username}?start={code}" in texts(sent)

        # 4. the focal point links with /start CODE
        sent = await bot.command(FOCAL, "start", code, expect="Đã liên kết")
        assert "đầu mối của Sở Tư pháp" in texts(sent)
        with Session(engine) as session:
            contact = session.exec(select(Contact).where(Contact.user_id == str(FOCAL))).one()
            stp = session.exec(select(Agency).where(Agency.code == "STP")).one()
        assert (contact.role, contact.agency_id, contact.channel) == ("focal", stp.id, "telegram")
        scopes = [c for c in api.calls_to("setMyCommands") if "scope" in c.params]
        assert any(c.params["scope"].get("chat_id") == FOCAL for c in scopes)

        # 5. /nhiemvu lists exactly STP's assignments, page by page
        sent = await bot.command(FOCAL, "nhiemvu", expect="Nhiệm vụ của Sở Tư pháp")
        pages = [sent[-1].text]
        while any("Sau" in b["text"] for b in bot.last_with_buttons(FOCAL).buttons):
            sent = await bot.press(FOCAL, "Sau")
            assert sent[-1].method == "editMessageText"  # the list pages in place
            pages.append(sent[-1].text)
            if len(pages) > 20:
                raise AssertionError("paging does not end")
        listed = re.findall(r"^• (\S+) — ", "\n".join(pages), flags=re.M)
        assert len(listed) == len(set(listed)), "a task is listed twice"
        assert set(listed) == stp_refs(engine)
        assert f"— {len(set(listed))} nhiệm vụ" in pages[0]

        # 6. the guided report, with a restart of the bot between two steps
        await bot.command(FOCAL, "baocao", expect="Chọn nhiệm vụ")
        await bot.text(FOCAL, "III.4.1", expect="Tình trạng hiện nay")
        await bot.press(FOCAL, "Đang thực hiện", expect="mô tả ngắn")
        await bot.restart()
        await bot.text(FOCAL, "Đã giải quyết đúng hạn 965/1.000 hồ sơ", expect="trên 95%")
        await bot.text(FOCAL, "96,5", expect="Khó khăn")
        await bot.press(FOCAL, "Bỏ qua", expect="Tài liệu kiểm chứng")
        await bot.send(
            api.make_document(FOCAL, "ket-qua-quy-3.pdf", PDF, "application/pdf"),
            expect="Đã nhận “ket-qua-quy-3.pdf”",
        )
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(PendingUpload)).one() == 1
        await bot.restart()
        sent = await bot.press(FOCAL, "Xong", expect="Xem lại báo cáo")
        summary = sent[-1].text
        assert "96,5%" in summary and "đạt" in summary and "ket-qua-quy-3.pdf" in summary
        summary_message = bot.last_with_buttons(FOCAL)
        sent = await bot.press(FOCAL, "Gửi", expect="Số biên nhận")
        receipt = re.search(r"Số biên nhận: (BC-2024-\d{6})", texts(sent)).group(1)
        # the summary's buttons are gone once the report is in
        assert any(c.method == "editMessageReplyMarkup" for c in sent)
        assert api.buttons(FOCAL, summary_message.message_id) == []

        # 7. the report and its file are in the database
        with Session(engine) as session:
            report = session.exec(select(StatusReport)).one()
            evidence = session.exec(select(EvidenceFile)).one()
            task = session.get(Task, report.task_id)
            round_id = report.round_id
            audits = session.exec(select(AuditLog).where(AuditLog.action == "report_submit")).all()
            assert session.exec(select(ChatFlow)).all() == []
            assert session.exec(select(PendingUpload)).all() == []
        assert (report.receipt, task.ref, report.agency_id) == (receipt, "III.4.1", stp.id)
        assert (report.status, report.figure, report.version, report.is_latest) == (
            "in_progress",
            "96,5%",
            1,
            True,
        )
        assert report.result == "Đã giải quyết đúng hạn 965/1.000 hồ sơ"
        assert report.reporter_id == contact.id and report.difficulties == ""
        # no open round covers III.4.1 on 1/7/2024: the 05/7 round asks for a document
        assert round_id is None
        assert (evidence.report_id, evidence.file_name, evidence.content) == (
            report.id,
            "ket-qua-quy-3.pdf",
            PDF,
        )
        assert evidence.sha256 == hashlib.sha256(PDF).hexdigest() and evidence.size == len(PDF)
        assert [a.outcome for a in audits] == ["ok"]

        # 8. replayed updates change nothing and send nothing
        send_press = next(
            c for c in reversed(api.sent_messages(FOCAL)) if "Xem lại báo cáo" in c.text
        )
        assert send_press  # the summary whose "Gửi" was pressed
        replays = [
            u
            for u in _delivered(api)
            if u.get("callback_query", {}).get("data")
            and "Gửi" in _button_text(u["callback_query"])
        ] + [u for u in _delivered(api) if _text(u) == "/baocao"]
        assert len(replays) == 2
        mark = api.mark()
        for update in replays:
            bot.done.discard(update["update_id"])
            api.inject(copy.deepcopy(update))
        for update in replays:
            await bot.processed(update)
        assert [c for c in api.sent_messages(FOCAL) if c.seq >= mark] == []
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(StatusReport)).one() == 1
            assert session.exec(select(func.count()).select_from(EvidenceFile)).one() == 1
            assert session.exec(select(ChatFlow)).all() == []


def _delivered(api) -> list[dict]:
    """Every update the bot received (the getUpdates answers), in order."""
    seen: dict[int, dict] = {}
    for call in api.calls_to("getUpdates"):
        for update in call.result or []:
            seen[update["update_id"]] = update
    return [seen[k] for k in sorted(seen)]


def _button_text(query: dict) -> str:
    for row in query["message"].get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            if button.get("callback_data") == query["data"]:
                return button["text"]
    return ""


def _text(update: dict) -> str:
    return update.get("message", {}).get("text", "")
