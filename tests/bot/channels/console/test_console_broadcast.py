"""A coordinator tries /nhacnho on the console after `parbot demo seed`, end to end.

The real `parbot run` console wiring (run_console: console chat, dispatcher, scheduling and
the outbox delivery worker in the background) with a typist that waits for the tally before
leaving. Before the demo, every audience reaches nobody; after it, the preview counts the demo
focal points, each delivery is printed under its recipient's name, and the progress message
and the tally reach the coordinator at the keyboard.
"""

from __future__ import annotations

import asyncio
import io
import time

from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.app import build_app as build_runtime
from bot.cli import app
from bot.runtime import run_console
from bot.settings import Settings
from core.clock import FixedClock
from storage.demo_recipients import REACHABLE
from storage.tables.scheduling import Broadcast
from storage.tables.shared import Contact, Outbox
from tests.support.chat import T0  # 09:00 on a working Monday: inside the send window


class Typist(io.StringIO):
    """Types `lines` one by one, then waits until `until` is printed before leaving (EOF)."""

    def __init__(self, lines: list[str], out: io.StringIO, until: str, timeout: float = 60) -> None:
        super().__init__()
        self.lines, self.out, self.until, self.timeout = list(lines), out, until, timeout

    def isatty(self) -> bool:
        return False

    def readline(self, size: int | None = -1) -> str:
        if self.lines:
            return self.lines.pop(0) + "\n"
        deadline = time.monotonic() + self.timeout
        while self.until not in self.out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
        return ""


def try_console(engine, lines: list[str], until: str) -> str:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(_env_file=None, database_url=url, telegram_bot_token=None)
    runtime = build_runtime(settings, engine, FixedClock(T0))
    out = io.StringIO()
    assert asyncio.run(run_console(runtime, Typist(lines, out, until), out)) == 0
    return out.getvalue()


COORDINATOR = ["2", "nội vụ"]  # the console's role pick: coordinator of Sở Nội vụ


def test_without_the_demo_nobody_is_reachable_and_nothing_is_queued(engine):
    out = try_console(engine, [*COORDINATOR, "/nhacnho", "1"], until="Không có đầu mối nào")
    assert "Không có đầu mối nào (đang nhận tin)" in out
    with Session(engine) as session:
        assert session.exec(select(Broadcast)).first() is None
        assert session.exec(select(Outbox).where(Outbox.kind == "broadcast")).first() is None


def test_after_demo_seed_a_broadcast_is_previewed_delivered_and_tallied(engine, tmp_path):
    url = engine.url.render_as_string(hide_password=False)
    seeded = CliRunner().invoke(
        app, ["demo", "seed"], env={"PARBOT_DATABASE_URL": url, "PARBOT_DATA_DIR": str(tmp_path)}
    )
    assert seeded.exit_code == 0, seeded.output
    assert "Đầu mối thử nhận tin trên bảng điều khiển" in seeded.output
    with Session(engine) as session:
        reachable = session.exec(
            select(Contact).where(Contact.channel == "console", Contact.active)
        ).all()
    assert sorted(c.user_id for c in reachable) == sorted(f"demo:{code}" for code in REACHABLE)
    names = [c.display_name for c in reachable]
    assert all(name in seeded.output for name in names)

    text = "Đề nghị các cơ quan cập nhật tiến độ trước thứ Sáu."
    out = try_console(
        engine,
        [*COORDINATOR, "/nhacnho", "1", text, "1"],  # Tất cả đầu mối → text → Gửi
        until="Đã gửi xong",
    )
    assert f"Số người nhận: {len(REACHABLE)} (đầu mối của {len(REACHABLE)} cơ quan)" in out
    assert f"Đã xếp hàng {len(REACHABLE)} tin" in out
    for contact in reachable:  # each delivery printed under its recipient's name
        assert f"📨 Tin gửi tới {contact.display_name} — đầu mối thử của" in out
    assert out.count(f"📢 Nhắc nhở từ Người dùng thử:\n\n{text}") >= len(REACHABLE)
    assert "đầu mối thử của Sở Tư pháp (hiện ra đây để bạn xem):" in out  # names the agency
    assert "✅ Đã gửi xong" in out and f"{len(REACHABLE)}/{len(REACHABLE)}" in out
    with Session(engine) as session:
        broadcast = session.exec(select(Broadcast)).one()
    assert (broadcast.status, broadcast.total) == ("done", len(REACHABLE))

    cleared = CliRunner().invoke(app, ["demo", "clear"], env={"PARBOT_DATABASE_URL": url})
    assert cleared.exit_code == 0, cleared.output
    with Session(engine) as session:
        assert session.exec(
            select(Contact).where(Contact.channel == "console", Contact.active)
        ).all() == [c for c in session.exec(select(Contact)).all() if c.user_id == "console"]
