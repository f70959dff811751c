"""/tonghop on the real python-telegram-bot Application, talking HTTP to the fake Bot API.

Coordinators and leaders get the whole report (summary + .xlsx + .docx + chart), a focal point
only their own agency's part, anyone else is refused. The files the bot uploaded are opened.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from docx import Document
from sqlalchemy import select
from sqlmodel import Session

from core.clock import FixedClock
from core.model import UserRole
from core.report_model import Scope
from messages.reports.summary import summary_text
from storage.db import transaction
from storage.tables.shared import Agency, Assignment, AuditLog, Contact, Task
from tests.support import reports as report_support
from tests.support.chat import ChatBot, invite_code
from tests.support.reports import AS_OF, NOW, compiled

# fixtures shared by the report tests (a module attribute registers them here)
demo_engine = report_support.demo_engine
demo_template = report_support.demo_template


USER = 4242


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PARBOT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


async def link(bot: ChatBot, engine, user: int, agency: str | None, role: UserRole) -> None:
    code = invite_code(engine, agency, role, now=NOW)
    await bot.command(user, "start", code)
    with Session(engine) as session:
        linked = session.execute(select(Contact).where(Contact.user_id == str(user))).scalar_one()
    assert linked.role == role.value


def uploads(calls) -> dict[str, bytes]:
    files = {}
    for call in calls:
        for stored in call.files.values():
            kind = "png" if call.method == "sendPhoto" else stored.file_name.rsplit(".", 1)[-1]
            files[kind] = stored.content
    return files


@pytest.mark.parametrize("role", [UserRole.COORDINATOR, UserRole.LEADER])
async def test_staff_get_the_whole_report_in_one_tap(
    demo_engine,
    fake_api,
    data_dir,
    role,
):
    async with ChatBot(fake_api, demo_engine, FixedClock(NOW)) as bot:
        await link(bot, demo_engine, USER, "SNV", role)
        asked = await bot.command(USER, "tonghop", expect="toàn bộ kế hoạch")
        assert [b["text"] for b in asked[-1].buttons] == ["Đến hôm nay", "Chọn phạm vi…"]
        calls = await bot.press(USER, "Đến hôm nay")
    expected = compiled(demo_engine, Scope())
    texts = [c.text for c in calls if c.method == "sendMessage"]
    assert summary_text(expected) in texts
    assert [c.method for c in calls if c.files] == ["sendDocument", "sendDocument", "sendPhoto"]
    files = uploads(calls)
    assert set(files) == {"xlsx", "docx", "png"}
    book = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    rows = list(book["Tổng hợp"].iter_rows(min_row=5, values_only=True))
    assert len(rows) == len(expected.tasks)
    assert book["Ma trận"].max_row - 1 == len(expected.data.agencies)
    word = Document(io.BytesIO(files["docx"]))
    assert "BÁO CÁO" in [p.text for p in word.paragraphs]
    assert files["png"].startswith(b"\x89PNG")
    with Session(demo_engine) as session:
        audit = session.execute(
            select(AuditLog).where(AuditLog.action == "report_compiled")
        ).scalar_one()
    assert audit.outcome == "ok" and audit.actor == f"telegram:{USER}"
    assert list(data_dir.joinpath("reports").iterdir())  # the files the bot sent


async def test_a_focal_point_gets_only_their_agency_through_the_guided_flow(
    demo_engine,
    fake_api,
    data_dir,
):
    async with ChatBot(fake_api, demo_engine, FixedClock(NOW)) as bot:
        await link(bot, demo_engine, USER, "STP", UserRole.FOCAL)
        await bot.command(USER, "tonghop", expect="phần việc của Sở Tư pháp")
        await bot.press(USER, "Chọn phạm vi", expect="kỳ báo cáo")
        await bot.press(USER, "Mọi báo cáo", expect="Lĩnh vực nào")
        asked = await bot.press(USER, "II.", expect="Tính đến ngày nào")  # no "kind" step
        assert "Loại cơ quan" not in asked[-1].text
        wrong = await bot.text(USER, "31/02/2025")
        assert wrong and "Tính đến ngày nào" in wrong[-1].text
        future = await bot.text(USER, "01/01/2030", expect="không được sau hôm nay")
        assert not any(c.files for c in future)
        calls = await bot.text(USER, "31/03/2025")
    expected = compiled(demo_engine, Scope(area_code="II", agency_code="STP", as_of=AS_OF))
    texts = [c.text for c in calls if c.method == "sendMessage"]
    assert summary_text(expected) in texts
    assert "riêng Sở Tư pháp" in texts[0] and "lĩnh vực II." in texts[0]
    files = uploads(calls)
    book = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    matrix = list(book["Ma trận"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in matrix] == ["STP"]
    with Session(demo_engine) as session:
        stp_refs = set(
            session.execute(
                select(Task.ref)
                .join(Assignment, Assignment.task_id == Task.id)
                .join(Agency, Agency.id == Assignment.agency_id)
                .where(Agency.code == "STP", Task.ref.like("II.%"))
            ).scalars()
        )
    refs = {r[0] for r in book["Tổng hợp"].iter_rows(min_row=5, values_only=True)}
    assert refs == stp_refs and refs


async def test_anyone_else_is_refused(demo_engine, fake_api, data_dir):
    stranger, orphan = 777, 888
    with transaction(demo_engine) as session:
        session.add(
            Contact(
                channel="telegram",
                user_id=str(orphan),
                chat_id=str(orphan),
                role=UserRole.FOCAL.value,
                agency_id=None,
                created_at=NOW,
            )
        )
    async with ChatBot(fake_api, demo_engine, FixedClock(NOW)) as bot:
        unlinked = await bot.command(stranger, "tonghop")
        no_agency = await bot.command(orphan, "tonghop")
    assert "chưa được liên kết" in unlinked[-1].text
    assert "chưa gắn với cơ quan nào" in no_agency[-1].text
    assert not any(c.files or c.buttons for c in unlinked + no_agency)
    with Session(demo_engine) as session:
        refused = (
            session.execute(select(AuditLog).where(AuditLog.action == "report_compiled"))
            .scalars()
            .all()
        )
    assert [(a.outcome, a.actor) for a in refused] == [("refused", f"telegram:{orphan}")]
    assert not data_dir.joinpath("reports").exists()
