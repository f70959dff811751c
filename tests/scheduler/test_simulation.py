"""Simulated time, 20/6/2024 → 12/7/2024, on the seed: every message the 05/7/2024 round makes.

The clock moves in 15-minute steps through nights and weekends; at each step the reminder and
digest sweeps run and the delivery worker delivers to an in-memory channel, which notes the
time of each send. On 04/7 parbot is "down" from 07:00 to 10:40 and restarts with fresh
objects, as after a crash.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import select

from core.clock import FixedClock
from scheduler.context import Scheduling
from scheduler.delivery import DeliveryWorker
from scheduler.digest import digest_relevance, sweep_digest
from scheduler.reminders import reminder_relevance, snooze, sweep
from storage.db import transaction
from storage.tables.shared import Outbox
from tests.support.scheduling import VN, MemoryChannel, add_contact, send_round_document, vn

ROUND_LINE = "Kỳ báo cáo: Kế hoạch cải thiện Chỉ số thành phần PAR INDEX 2023"
SIX = ["SNV", "STC", "STTTT", "SKHDT", "STP", "VPUBND"]
START, END = date(2024, 6, 20), date(2024, 7, 12)
OUTAGE = (vn(date(2024, 7, 4), 7, 0), vn(date(2024, 7, 4), 10, 40))
WORKING_DAYS = [date(2024, 6, d) for d in (20, 21, 24, 25, 26, 27, 28)] + [
    date(2024, 7, d) for d in (1, 2, 3, 4, 5, 8, 9, 10, 11, 12)
]


@dataclass
class Seen:
    at: datetime
    chat_id: str
    text: str


def report(engine, agency_code: str, at: datetime) -> None:
    """The agency sends its improvement plan: the document the 05/7 round asks for."""
    send_round_document(engine, agency_code, at)


def boot(engine, clock, channel):
    ctx = Scheduling(engine, clock)
    worker = DeliveryWorker(
        engine,
        {"telegram": channel},
        clock,
        ctx.calendar,
        relevance={"reminder": reminder_relevance(ctx.tz), "digest": digest_relevance},
    )
    worker.recover()
    return ctx, worker


async def test_the_5_july_round_from_20_june_to_12_july(engine):
    chats = {}
    for code in SIX:
        chats[add_contact(engine, "focal", code, f"1{len(chats):03d}", name=f"Đầu mối {code}")] = (
            code
        )
    leader_stp = add_contact(engine, "leader", "STP", "2001", name="Giám đốc Sở Tư pháp")
    leader_skhdt = add_contact(engine, "leader", "SKHDT", "2002", name="Giám đốc Sở KH&ĐT")
    coordinator = add_contact(engine, "coordinator", "SNV", "3001", name="Chuyên viên SNV")
    chat_of = {code: f"1{n:03d}" for n, code in enumerate(SIX)}
    code_of_chat = {v: k for k, v in chat_of.items()}

    clock = FixedClock(vn(START, 0, 0))
    seen: list[Seen] = []
    channel = MemoryChannel()

    def record(chat_id, message):
        seen.append(Seen(clock.now(), chat_id, message.text))

    channel.on_send = record
    ctx, worker = boot(engine, clock, channel)
    snoozed = False
    reports = {"SNV": vn(date(2024, 7, 2), 10, 0), "STC": vn(date(2024, 7, 9), 7, 0)}
    step = timedelta(minutes=15)
    while clock.now() < vn(END, 23, 59):
        now = clock.now()
        if OUTAGE[0] <= now < OUTAGE[1]:
            clock.advance(step)
            if clock.now() >= OUTAGE[1]:
                clock.set(OUTAGE[1])
                ctx, worker = boot(engine, clock, channel)  # restart after the outage
            continue
        local = now.astimezone(VN)
        for code, when in list(reports.items()):
            if local >= when:
                report(engine, code, now)
                del reports[code]
        sweep(ctx)
        sweep_digest(ctx)
        await worker.run_once()
        if not snoozed and local.date() == date(2024, 7, 2) and local.time() >= time(9):
            # STP's focal point presses "Nhắc lại sau" on the T−3 reminder
            snoozed = True
            with transaction(engine) as session:
                key = session.exec(
                    select(Outbox.idempotency_key).where(
                        Outbox.chat_id == chat_of["STP"],
                        Outbox.idempotency_key.like("reminder:KH-CAITHIEN-2024:%:t-3:%"),
                    )
                ).one()
                outcome = snooze(
                    session, key, _contact_id(chats, "STP"), local.date(), ctx.calendar(), ctx.tz
                )
                assert outcome.until == date(2024, 7, 3)
        clock.advance(step)

    # -- the timeline, printed for the record (pytest -s)
    for item in seen:
        local = item.at.astimezone(VN)
        print(local.strftime("%a %d/%m %H:%M"), item.chat_id, item.text.splitlines()[0])

    # nothing on a day off or outside 07:30–17:00
    for item in seen:
        local = item.at.astimezone(VN)
        assert local.date() in WORKING_DAYS, item
        assert time(7, 30) <= local.time() < time(17, 0), item

    # the round's reminders, per agency and day
    round_days: dict[str, list[tuple[date, str]]] = defaultdict(list)
    for item in seen:
        if item.chat_id in code_of_chat and ROUND_LINE in item.text:
            round_days[code_of_chat[item.chat_id]].append(
                (item.at.astimezone(VN).date(), item.text.splitlines()[0])
            )
    ladder = [date(2024, 6, 26), date(2024, 7, 2), date(2024, 7, 4), date(2024, 7, 5)]
    overdue = [date(2024, 7, 8), date(2024, 7, 9), date(2024, 7, 10)]
    assert [d for d, _ in round_days["SNV"]] == ladder[:2]  # reported 02/7 10:00
    assert [d for d, _ in round_days["STC"]] == ladder + overdue[:1]  # reported 09/7 07:00
    for code in ("STTTT", "SKHDT", "VPUBND"):
        assert [d for d, _ in round_days[code]] == ladder + overdue, code
    # STP snoozed the T−3 reminder: repeated once on 03/7
    assert [d for d, _ in round_days["STP"]] == ladder[:2] + [date(2024, 7, 3)] + ladder[2:] + (
        overdue
    )
    assert round_days["STP"][2][1].startswith("🔁")
    assert round_days["VPUBND"][0][1].startswith("⏰ Còn 7 ngày")
    assert round_days["VPUBND"][4][1].startswith("❗ Đã quá hạn 1 ngày")

    # the outage: 04/7's T−1 reminder went out once, when parbot came back at 10:40
    t1 = [i for i in seen if i.chat_id == chat_of["VPUBND"] and i.at.date() == date(2024, 7, 4)]
    t1 = [i for i in t1 if ROUND_LINE in i.text]
    assert len(t1) == 1 and t1[0].at.astimezone(VN).time() == time(10, 40)

    # escalation on the 4th overdue working day (Thursday 11/7), to leaders and the coordinator
    escalations = [i for i in seen if i.text.startswith("🔔")]
    assert {i.at.astimezone(VN).date() for i in escalations} == {date(2024, 7, 11)}
    leaders = {i.chat_id for i in escalations if i.chat_id.startswith("2")}
    assert leaders == {"2001", "2002"}
    to_coordinator = [i for i in escalations if i.chat_id == "3001"]
    assert len(to_coordinator) == 1
    for name in ("Sở Thông tin và Truyền thông", "Sở Tư pháp", "Văn phòng UBND tỉnh"):
        assert name in to_coordinator[0].text
    assert "Sở Nội vụ" not in to_coordinator[0].text.split("\n", 1)[1]
    assert "Sở Tài chính" not in to_coordinator[0].text

    # one digest per working day for the coordinator and each leader
    for chat in ("3001", "2001", "2002"):
        days = [
            i.at.astimezone(VN).date() for i in seen if i.chat_id == chat and "Bản tin" in i.text
        ]
        assert days == WORKING_DAYS, chat
    # focal points: at most one a day, none before the round opened (nothing to do then)
    for code, chat in chat_of.items():
        days = [
            i.at.astimezone(VN).date()
            for i in seen
            if i.chat_id == chat and "Việc cần làm" in i.text
        ]
        assert len(days) == len(set(days)), code
        assert min(days) == date(2024, 6, 26), code
    snv_digest_days = [
        i.at.astimezone(VN).date()
        for i in seen
        if i.chat_id == chat_of["SNV"] and "Việc cần làm" in i.text
    ]
    assert max(snv_digest_days) == date(2024, 7, 2)  # SNV reported that morning at 10:00
    assert leader_stp and leader_skhdt and coordinator


def _contact_id(chats: dict[int, str], code: str) -> int:
    return next(cid for cid, c in chats.items() if c == code)
