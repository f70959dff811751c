"""The console channel: a newcomer follows the printed guide and files a report; no TTY needed."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import unicodedata
from pathlib import Path

from sqlmodel import Session, select

from bot.channels.console.app import ConsoleChat
from bot.chat.dispatcher import Dispatcher
from bot.runtime import build_registry
from core.clock import FixedClock
from storage.db import make_engine
from storage.tables.chat import Invite
from storage.tables.shared import Contact, EvidenceFile, StatusReport, Task
from tests.support.chat import T0

ROOT = Path(__file__).resolve().parents[4]


def make_run_commands() -> list[list[str]]:
    """The parbot commands `make run` runs (pip install lines left out)."""
    dry = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    commands = [shlex.split(line) for line in dry.splitlines() if "/parbot " in line]
    assert [c[1:] for c in commands][-1] == ["run"]
    return [[str(ROOT / c[0]), *c[1:]] for c in commands]


def test_make_run_without_token_lets_a_newcomer_file_a_report(tmp_path):
    evidence = tmp_path / "ke-hoach.pdf"
    evidence.write_bytes(b"%PDF-1.4 ke hoach cua so")
    database = tmp_path / "data" / "parbot.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "PARBOT_"))}
    env["PARBOT_DATABASE_URL"] = f"sqlite:///{database}"
    *prepare, run = make_run_commands()
    for command in prepare:
        subprocess.run(command, cwd=tmp_path, env=env, check=True, capture_output=True)
    # exactly what the printed guide says to do
    typed = [
        "1",  # đầu mối
        "tư pháp",
        "/nhiemvu",
        "/baocao",
        "2",  # the first task (1: the document the open 05/7 round still asks of Sở Tư pháp)
        "3",  # Hoàn thành
        "Đã ban hành Kế hoạch số 15/KH-STP",
        "33",  # the figure asked by the plan's target
        "bỏ qua",
        f"/tep {evidence}",
        "xong",
        "1",  # Gửi
    ]
    done = subprocess.run(
        run,
        cwd=tmp_path,
        env=env,
        input="\n".join(typed) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "chạy thử trên máy" in out and "Chọn vai trò" in out  # the guide
    assert "Bạn đang đóng vai đầu mối của Sở Tư pháp" in out
    assert "Nhiệm vụ của Sở Tư pháp" in out
    assert "Đã nhận “ke-hoach.pdf”" in out
    assert "Số biên nhận: BC-" in out and out.rstrip().endswith("tiếp tục đúng chỗ đang dở.")
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        report = session.exec(select(StatusReport)).one()
        task = session.get(Task, report.task_id)
        evidence_row = session.exec(select(EvidenceFile)).one()
        contact = session.get(Contact, report.reporter_id)
    engine.dispose()
    assert (task.ref, report.status, report.figure) == ("I.1", "done", "33")
    assert (contact.channel, contact.role) == ("console", "focal")
    assert evidence_row.content == evidence.read_bytes()


def console(engine, lines: list[str]) -> str:
    out = io.StringIO()
    dispatcher = Dispatcher(engine, build_registry(), FixedClock(T0))
    code = ConsoleChat(dispatcher, out, echo=True).run(io.StringIO("\n".join(lines) + "\n"))
    assert code == 0
    return out.getvalue()


def test_console_roles_coordinator_invites_and_input_quirks(engine, tmp_path):
    nfd = unicodedata.normalize("NFD", "Sở Nội vụ")
    out = console(
        engine,
        [
            "2",  # điều phối viên
            nfd,
            "/moi STP focal",
            "/baocao",  # refused: a coordinator does not report
            "/dongvai",
            "1",
            "SO TU PHAP",
            "/baocao III.4.1",
            "/tep /khong/co/tep.pdf",
            "9",  # no such option
            "/huy",
            "/thoat",
            "/help",  # never read: the user left
        ],
    )
    assert "Bạn đang đóng vai điều phối viên của Sở Nội vụ" in out
    assert "Mã mời đầu mối cho Sở Tư pháp:" in out and "t.me/" not in out
    assert "Bạn không có quyền dùng lệnh /baocao" in out
    assert "Bạn đang đóng vai đầu mối của Sở Tư pháp" in out
    assert "Không tìm thấy tệp “/khong/co/tep.pdf”" in out
    assert "Không có lựa chọn nào khớp với “9”" in out
    assert "Đã huỷ" in out and "› /help" not in out  # nothing is read after /thoat
    with Session(engine) as session:
        contact = session.exec(select(Contact).where(Contact.channel == "console")).one()
        invites = session.exec(select(Invite)).all()
    assert contact.role == "focal"  # the last role chosen
    assert len(invites) == 3  # two behind /dongvai, one from /moi


def test_console_resumes_where_it_stopped(engine):
    first = console(engine, ["1", "stp", "/baocao", "III.4.1", "2"])
    assert "mô tả ngắn" in first.rsplit("› 2", 1)[1]  # stopped at the result question
    second = console(engine, ["Làm tiếp sau khi khởi động lại", "96", "bỏ qua", "bỏ qua", "1"])
    assert "Bạn đang là đầu mối của Sở Tư pháp" in second  # no role question again
    assert "Số biên nhận: BC-2024-" in second
    with Session(engine) as session:
        report = session.exec(select(StatusReport)).one()
    assert report.result == "Làm tiếp sau khi khởi động lại" and report.figure == "96%"
