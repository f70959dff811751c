"""Review on the console (numbered choices, no buttons): a focal point and a coordinator at
two console accounts. Submit → /duyet → «Trả lại» with a reason → the outbox delivers it to
the focal point's console with «Báo cáo lại» as a number → pre-filled → resubmit → «Đạt»; the
JSON report counts each state. A typed /duyet by the focal point is refused and audited."""

from __future__ import annotations

import io
import re

from sqlmodel import Session, select

from bot.channels.console.app import ConsoleChat
from bot.channels.console.channel import ConsoleChannel
from bot.chat.dispatcher import Dispatcher
from bot.runtime import build_registry
from core.clock import FixedClock
from core.report_model import Scope
from messages.reports.build import compile_report
from messages.reports.json_export import report_dict
from storage.tables.shared import AuditLog, StatusReport
from tests.bot.channels.text.test_text_channel import deliver
from tests.support.chat import T0
from tests.support.reports import TZ


class Console:
    """One console account (its own user id), typing lines; resumes like `parbot run`."""

    def __init__(self, engine, clock, user: str) -> None:
        self.engine, self.clock, self.user = engine, clock, user
        self.out = io.StringIO()

    def type(self, *lines: str) -> str:
        mark = len(self.out.getvalue())
        dispatcher = Dispatcher(self.engine, build_registry(), self.clock)
        chat = ConsoleChat(dispatcher, self.out, user_id=self.user, echo=True)
        assert chat.run(io.StringIO("\n".join(lines) + "\n")) == 0
        return self.out.getvalue()[mark:]


def number(text: str, label: str) -> str:
    found = re.findall(rf"^(\d+)\. [^\n]*{re.escape(label)}", text, re.MULTILINE)
    assert found, f"no numbered choice {label!r} in:\n{text}"
    return found[-1]


def task_state(engine, clock) -> dict:
    with Session(engine) as session:
        report = compile_report(
            session,
            Scope(agency_code="STP", as_of=clock.now().astimezone(TZ).date()),
            TZ,
            clock.now(),
        )
    return next(t for t in report_dict(report)["tasks"] if t["ref"] == "III.4.1")


async def test_return_and_report_again_on_the_console(engine):
    clock = FixedClock(T0)
    focal, coordinator = Console(engine, clock, "dau-moi"), Console(engine, clock, "snv")
    filed = focal.type(
        "1", "tư pháp", "/baocao III.4.1", "3", "Đã công khai TTHC", "96", "bỏ qua", "bỏ qua", "1"
    )
    assert "chờ duyệt" in filed
    assert task_state(engine, clock)["review"]["pending"] == 1
    refused = focal.type("/duyet")
    assert "không có quyền dùng lệnh /duyet" in refused

    shown = coordinator.type("2", "nội vụ", "/duyet")
    assert "Báo cáo chờ duyệt" in shown and "Đã công khai TTHC" in shown
    asked = coordinator.type(number(shown, "Trả lại"))
    assert "Nhập lý do trả lại" in asked
    done = coordinator.type("Thiếu quyết định công bố")
    assert "Đã trả lại báo cáo" in done
    assert task_state(engine, clock)["review"]["returned"] == 1
    assert task_state(engine, clock)["verdict"] not in ("done_on_time", "done_late")

    out = io.StringIO()
    await deliver(engine, clock, {"console": ConsoleChannel(out)})
    told = out.getvalue()
    assert "Lý do: Thiếu quyết định công bố" in told and "Báo cáo lại" in told
    again = focal.type(number(told, "Báo cáo lại"))
    assert "Xem lại báo cáo" in again and "Đã công khai TTHC" in again
    sent = focal.type(number(again, "Gửi"))
    assert "Số biên nhận" in sent and "phiên bản 2" in sent
    assert task_state(engine, clock)["review"] == {"pending": 1, "accepted": 0, "returned": 0}

    shown = coordinator.type("/duyet")
    accepted = coordinator.type(number(shown, "Đạt"))
    assert "Đã duyệt «Đạt»" in accepted
    state = task_state(engine, clock)
    assert state["review"] == {"pending": 0, "accepted": 1, "returned": 0}
    assert state["verdict"] == "done_on_time"
    with Session(engine) as session:
        versions = session.exec(select(StatusReport.review).order_by(StatusReport.version)).all()
        refusals = session.exec(select(AuditLog.action).where(AuditLog.outcome == "refused")).all()
    assert versions == ["returned", "accepted"] and "command:/duyet" in refusals
