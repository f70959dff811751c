"""Simulated time for extensions and deputies: the clock moves through July 2024 in one-hour
steps, the reminder sweep runs and the delivery worker delivers to an in-memory channel.

* An extension approved on 09/07 moves Sở Tư pháp's deadline on II.1.a from 15/07 to 31/07:
  after it, no reminder names the old date; the ladder starts again from the new one; the task
  reported done on 30/07 is on time, and every output says "gia hạn đến 31/07/2024".
* A refused extension moves nothing: the old ladder goes on.
* The main focal point is away 15–19/07: the deputy receives those days' reminders, the main
  one the others.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from core.clock import FixedClock
from core.extensions import Decision, ExtensionDraft
from core.report_model import Scope, Verdict
from messages.extensions import ExtensionService
from messages.reports.build import compile_report
from messages.reports.json_export import report_dict
from messages.reports.summary import summary_text
from messages.reports.texts import task_progress
from scheduler.context import Scheduling
from scheduler.delivery import DeliveryWorker
from scheduler.reminders import reminder_relevance, sweep
from storage.db import transaction
from storage.deputies import set_absence, set_deputy
from storage.tables.shared import Agency, StatusReport, Task
from tests.support.scheduling import VN, MemoryChannel, add_contact, vn

STEP = timedelta(hours=1)


def _date_task(engine, ref: str, due: date) -> tuple[int, int]:
    with transaction(engine) as session:
        task = session.exec(select(Task).where(Task.ref == ref)).one()
        task.due_date = due
        session.add(task)
        return task.id, session.exec(select(Agency.id).where(Agency.code == "STP")).one()


async def _run(engine, start: datetime, end: datetime, events: dict[datetime, object]):
    """Step the clock; run each event once its time has come; return (local day, chat, text)."""
    clock = FixedClock(start)
    channel = MemoryChannel()
    seen: list[tuple[date, str, str]] = []
    channel.on_send = lambda chat, message: seen.append(
        (clock.now().astimezone(VN).date(), chat, message.text)
    )
    ctx = Scheduling(engine, clock)
    worker = DeliveryWorker(
        engine,
        {"telegram": channel},
        clock,
        ctx.calendar,
        relevance={"reminder": reminder_relevance(ctx.tz)},
    )
    pending = sorted(events.items(), key=lambda item: item[0])
    while clock.now() < end:
        while pending and pending[0][0] <= clock.now():
            pending.pop(0)[1](clock.now())  # type: ignore[operator]
        sweep(ctx)
        await worker.run_once()
        clock.advance(STEP)
    return seen


def _days(seen, chat: str, needle: str) -> dict[date, list[str]]:
    """The reminders (they state a "Hạn:") that `chat` received naming `needle`, by day."""
    found: dict[date, list[str]] = defaultdict(list)
    for day, to, text in seen:
        if to == chat and needle in text and "\nHạn: " in text:
            found[day].append(text)
    return found


async def test_approved_extension_shifts_the_ladder_and_counts_done_by_the_new_date(engine):
    task_id, stp = _date_task(engine, "II.1.a", date(2024, 7, 15))
    focal = add_contact(engine, "focal", "STP", "801", name="Anh Tư pháp")
    coordinator = add_contact(engine, "coordinator", "SNV", "803", name="Chị Hoa")

    def ask_and_approve(now: datetime) -> None:
        with transaction(engine) as session:
            service = ExtensionService(session, VN)
            draft = ExtensionDraft(stp, task_id, focal, date(2024, 7, 31), "Chờ ý kiến của Bộ")
            request = service.request(draft, now)
            service.decide(request.id, Decision.APPROVE, coordinator, "", now)

    def report_done(now: datetime) -> None:
        with transaction(engine) as session:
            session.add(
                StatusReport(
                    receipt="SIM-EXT",
                    task_id=task_id,
                    agency_id=stp,
                    status="done",
                    result="Đã hoàn thành",
                    submitted_at=now,
                )
            )

    seen = await _run(
        engine,
        vn(date(2024, 7, 1), 0, 0),
        vn(date(2024, 8, 2), 23, 0),
        {vn(date(2024, 7, 9), 16, 0): ask_and_approve, vn(date(2024, 7, 30), 10, 0): report_done},
    )
    ladder = _days(seen, "801", "II.1.a")
    assert sorted(ladder) == [
        date(2024, 7, 4),
        date(2024, 7, 22),
        date(2024, 7, 26),
        date(2024, 7, 30),
    ]
    assert "15/07/2024" in ladder[date(2024, 7, 4)][0]  # T−7 of the old date, before the request
    for day in (date(2024, 7, 22), date(2024, 7, 26), date(2024, 7, 30)):
        assert "31/07/2024 (đã gia hạn)" in ladder[day][0] and "15/07/2024" not in ladder[day][0]
    # nothing at all for the old date after the approval (T−3 10/07 … overdue 16–18/07)
    assert sorted(_days(seen, "801", "15/07/2024")) == [date(2024, 7, 4)]
    assert any("gia hạn đến 31/07/2024" in text for _d, chat, text in seen if chat == "801")

    with Session(engine) as session:
        report = compile_report(
            session, Scope(agency_code="STP", as_of=date(2024, 8, 5)), VN, vn(date(2024, 8, 5))
        )
    result = next(r for r in report.tasks if r.task.id == task_id)
    pair = result.leads[0]
    assert pair.verdict is Verdict.DONE_ON_TIME and pair.deadline == date(2024, 7, 31)
    assert pair.extension is not None and pair.extension.original == date(2024, 7, 15)
    assert "gia hạn đến 31/07/2024" in task_progress(result)  # workbook and Word prose
    assert "II.1.a: gia hạn đến 31/07/2024 — đã hoàn thành đúng hạn" in summary_text(report)
    exported = next(t for t in report_dict(report)["tasks"] if t["ref"] == "II.1.a")
    assert exported["extensions"] == [
        {
            "agency": "STP",
            "original": "2024-07-15",
            "new_date": "2024-07-31",
            "verdict": "done_on_time",
        }
    ]
    assert json.dumps(exported)  # plain values only


async def test_refused_extension_keeps_the_old_ladder(engine):
    task_id, stp = _date_task(engine, "II.1.a", date(2024, 7, 15))
    focal = add_contact(engine, "focal", "STP", "811")
    coordinator = add_contact(engine, "coordinator", "SNV", "813")

    def ask_and_refuse(now: datetime) -> None:
        with transaction(engine) as session:
            service = ExtensionService(session, VN)
            draft = ExtensionDraft(stp, task_id, focal, date(2024, 7, 31), "Chờ ý kiến của Bộ")
            request = service.request(draft, now)
            service.decide(request.id, Decision.REJECT, coordinator, "Không có căn cứ", now)

    seen = await _run(
        engine,
        vn(date(2024, 7, 9), 0, 0),
        vn(date(2024, 7, 16), 23, 0),
        {vn(date(2024, 7, 9), 16, 0): ask_and_refuse},
    )
    ladder = _days(seen, "811", "II.1.a")
    assert sorted(ladder) == [
        date(2024, 7, 10),
        date(2024, 7, 12),
        date(2024, 7, 15),
        date(2024, 7, 16),
    ]
    assert all("15/07/2024" in texts[0] for texts in ladder.values())
    told = [text for _d, chat, text in seen if chat == "811" and "không chấp thuận" in text]
    assert len(told) == 1 and "Không có căn cứ" in told[0]


async def test_deputy_receives_the_reminders_while_the_main_focal_point_is_away(engine):
    _date_task(engine, "II.1.b", date(2024, 7, 22))
    main = add_contact(engine, "focal", "STP", "821", name="Đầu mối chính")
    deputy = add_contact(engine, "focal", "STP", "822", name="Đầu mối thay thế")
    with transaction(engine) as session:
        set_deputy(session, deputy, True, main, vn(date(2024, 7, 1)))
        set_absence(session, main, date(2024, 7, 15), date(2024, 7, 19), vn(date(2024, 7, 1)))
    seen = await _run(engine, vn(date(2024, 7, 10), 0, 0), vn(date(2024, 7, 23), 23, 0), {})
    to_main = sorted(_days(seen, "821", "II.1.b"))
    to_deputy = sorted(_days(seen, "822", "II.1.b"))
    # T−7 11/07 and T0 22/07, overdue 23/07 to the main one; T−3 17/07 and T−1 19/07 to the deputy
    assert to_main == [date(2024, 7, 11), date(2024, 7, 22), date(2024, 7, 23)]
    assert to_deputy == [date(2024, 7, 17), date(2024, 7, 19)]
