"""parbot calendar|round|outbox: what IT staff type, and bad input that changes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from bot.cli import app
from core.outgoing import Outgoing
from storage import outbox as outbox_repo
from storage.db import transaction
from storage.outbox import OutboxItem
from storage.tables.scheduling import CalendarDay
from storage.tables.shared import Outbox, ReportingRound, Task


@pytest.fixture
def cli(engine, monkeypatch):
    monkeypatch.setenv("PARBOT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    return run


def days(engine) -> dict[date, str]:
    with Session(engine) as session:
        return {row.day: row.kind for row in session.exec(select(CalendarDay)).all()}


def test_calendar_add_off_range_add_workday_list_and_remove(cli, engine):
    result = cli("calendar", "add-off", "25/01/2025", "--to", "02/02/2025", "--note", "Tết Ất Tỵ")
    assert result.exit_code == 0, result.output
    assert "9 ngày nghỉ" in result.output
    assert cli("calendar", "add-workday", "2025-04-26").exit_code == 0
    stored = days(engine)
    assert len(stored) == 10 and stored[date(2025, 1, 25)] == "off"
    assert stored[date(2025, 4, 26)] == "work"
    listing = cli("calendar", "list", "--year", "2025").output
    assert "25/01/2025 T7  NGHỈ      Tết Ất Tỵ [quản trị]" in listing
    assert "Giỗ Tổ Hùng Vương" in listing
    assert cli("calendar", "remove", "26/04/2025").exit_code == 0
    assert date(2025, 4, 26) not in days(engine)


@pytest.mark.parametrize(
    "args",
    [
        ("calendar", "add-off", "31/02/2025"),
        ("calendar", "add-off", "tomorrow"),
        ("calendar", "add-off", "10/01/2025", "--to", "01/01/2025"),
        ("calendar", "add-off", "01/01/2025", "--to", "01/06/2025"),
        ("calendar", "remove", "01/03/2025"),
    ],
)
def test_bad_calendar_input_exits_2_in_vietnamese_and_changes_nothing(cli, engine, args):
    result = cli(*args)
    assert result.exit_code == 2
    assert "Lỗi:" in result.output
    assert days(engine) == {}


def test_round_create_set_deadline_close_reopen(cli, engine):
    result = cli(
        "round", "create", "--title", "Báo cáo 6 tháng", "--deadline", "15/07/2024",
        "--kinds", "district", "--code", "BC-6T",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "18 cơ quan" in result.output
    assert cli("round", "set-deadline", "BC-6T", "19/07/2024").exit_code == 0
    assert cli("round", "close", "BC-6T").exit_code == 0
    with Session(engine) as session:
        row = session.exec(select(ReportingRound).where(ReportingRound.code == "BC-6T")).one()
        assert (row.deadline, row.status) == (date(2024, 7, 19), "closed")
    assert "BC-6T" not in cli("round", "list").output
    assert "BC-6T" in cli("round", "list", "--all").output
    assert cli("round", "reopen", "BC-6T").exit_code == 0
    assert "BC-QUY-III-2024" in cli("round", "list").output


def test_round_create_asking_each_agency_for_a_document(cli, engine):
    result = cli(
        "round", "create", "--title", "Kế hoạch CĐS 2025", "--deadline", "15/01/2025",
        "--agencies", "STP,STC", "--asks", "document", "--code", "KH-CDS-2025",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        row = session.exec(select(ReportingRound).where(ReportingRound.code == "KH-CDS-2025")).one()
    assert row.asks == "document"
    shown = cli("round", "show", "KH-CDS-2025").output
    assert "Yêu cầu gửi: văn bản của từng cơ quan" in shown
    assert "báo cáo tiến độ nhiệm vụ" in cli("round", "show", "BC-QUY-III-2024").output


@pytest.mark.parametrize(
    "args",
    [
        ("round", "create", "--title", "X", "--deadline", "15/07/2024", "--agencies", "STP",
         "--asks", "photo"),
        ("round", "create", "--title", "X", "--deadline", "15/07/2024", "--agencies", "NOPE"),
        ("round", "create", "--title", "X", "--deadline", "15/07/2024", "--kinds", "planet"),
        ("round", "create", "--title", "X", "--deadline", "15/07/2024"),
        ("round", "create", "--title", "X", "--deadline", "15/07/2024", "--tasks", "IX.9"),
        ("round", "create", "--title", "X", "--deadline", "2024-13-01", "--agencies", "STP"),
        ("round", "create", "--title", "X", "--deadline", "15/07/2024", "--agencies", "STP",
         "--code", "KH-CAITHIEN-2024"),
        ("round", "set-deadline", "NOPE", "15/07/2024"),
        ("round", "set-deadline", "KH-CAITHIEN-2024", "01/06/2024"),
        ("round", "close", "NOPE"),
    ],
)  # fmt: skip
def test_bad_round_input_exits_2_and_changes_nothing(cli, engine, args):
    with Session(engine) as session:
        before = [(r.code, r.deadline, r.status) for r in session.exec(select(ReportingRound))]
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "Lỗi:" in result.output
    with Session(engine) as session:
        after = [(r.code, r.deadline, r.status) for r in session.exec(select(ReportingRound))]
    assert after == before


def test_external_task_gets_its_date_dated_task_is_refused(cli, engine):
    assert cli("round", "task-date", "I.2", "15/11/2024").exit_code == 0
    refused = cli("round", "task-date", "I.1", "15/11/2024")
    assert refused.exit_code == 2 and "đã có tiến độ" in refused.output
    with Session(engine) as session:
        dates = dict(session.exec(select(Task.ref, Task.due_date)).all())
    assert dates["I.2"] == date(2024, 11, 15) and dates["I.1"] == date(2024, 12, 31)


def test_outbox_status_and_retry(cli, engine):
    with transaction(engine) as session:
        rows = outbox_repo.enqueue_many(
            session,
            [
                OutboxItem(f"k{n}", "telegram", str(n), Outgoing(f"tin {n}"), kind="broadcast")
                for n in range(3)
            ],
        )
        ids = [r.id for r in rows]
    from core.clock import SystemClock

    now = SystemClock().now()
    outbox_repo.mark_failed(engine, ids[0], "blocked: the user blocked the bot", now)
    outbox_repo.claim(engine, ids[1], now)
    outbox_repo.recover_interrupted(engine, now)
    status = cli("outbox", "status").output
    assert "chờ gửi: 1" in status and "lỗi: 2" in status
    assert "blocked 1" in status and "uncertain 1" in status
    assert cli("outbox", "retry", str(ids[1])).exit_code == 0
    assert cli("outbox", "retry", "99999").exit_code == 2
    with Session(engine) as session:
        pending = session.exec(
            select(func.count()).select_from(Outbox).where(Outbox.status == "pending")
        ).one()
    assert pending == 2
