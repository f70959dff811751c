"""Storage-level scheduling on SQLite and PostgreSQL: what is due, idempotent sweeps, digests,
snoozes, broadcasts' recipients, the leader lock."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlmodel import Session, func, select

from core.broadcast import AudienceKind, BroadcastAudience
from core.clock import FixedClock
from scheduler.context import Scheduling
from scheduler.digest import sweep_digest
from scheduler.leader import try_lead
from scheduler.reminders import obligations_due, snooze, sweep
from storage.db import transaction
from storage.scheduling.broadcast import recipients
from storage.scheduling.obligations import round_obligations, task_obligations
from storage.scheduling.rounds import open_rounds, set_deadline
from storage.tables.scheduling import ReminderRecord
from storage.tables.shared import Agency, Assignment, ButtonToken, Outbox, StatusReport, Task
from storage.zalo.window import NO_PHONE, NO_TEMPLATE, NOT_A_REMINDER, outside_reason
from tests.support.scheduling import VN, add_contact, send_round_document, vn


def agency_id(session: Session, code: str) -> int:
    return session.exec(select(Agency.id).where(Agency.code == code)).one()


def report(engine, code: str, at: datetime, status: str = "in_progress", ref: str | None = None):
    with transaction(engine) as session:
        agency = agency_id(session, code)
        query = select(Assignment.task_id).where(
            Assignment.agency_id == agency, Assignment.role == "lead"
        )
        if ref:
            query = select(Task.id).where(Task.ref == ref)
        task_id = session.exec(query).first()
        session.add(
            StatusReport(
                receipt=f"R-{code}-{at.timestamp()}-{ref}",
                task_id=task_id,
                agency_id=agency,
                status=status,
                submitted_at=at,
            )
        )


def count(engine, table, *where) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


def test_what_is_due_on_the_t3_day_of_the_5_july_round(any_engine):
    ctx = Scheduling(any_engine, FixedClock(vn(date(2024, 7, 2), 8, 30)))
    send_round_document(any_engine, "SNV", vn(date(2024, 7, 1), 10))
    # the round asks for a document: a status report does not answer it, nor a returned one
    report(any_engine, "STC", vn(date(2024, 7, 1), 10))
    send_round_document(any_engine, "STP", vn(date(2024, 7, 1), 11), status="returned")
    with Session(any_engine) as session:
        due = obligations_due(session, ctx, date(2024, 7, 2), ctx.calendar())
        codes = {session.get(Agency, o.agency_id).code for o, level in due}
    assert {level.code for _, level in due} == {"t-3"}
    assert codes == {"STC", "STTTT", "SKHDT", "STP", "VPUBND"}


def test_quarter_round_lists_each_lead_agencys_unreported_tasks(any_engine):
    report(any_engine, "STP", vn(date(2024, 9, 20), 9), ref="II.1.a")
    report(any_engine, "STP", vn(date(2024, 8, 1), 9), ref="II.2")  # before the round opened
    with Session(any_engine) as session:
        rounds = [r for r in open_rounds(session) if r.code == "BC-QUY-III-2024"]
        found = round_obligations(session, rounds, date(2024, 9, 25), VN, [date(2024, 9, 30)])
        stp = next(o for o in found if o.agency_id == agency_id(session, "STP"))
        refs = {session.get(Task, t).ref for t in stp.task_ids}
        lead = set(
            session.exec(
                select(Task.ref)
                .join(Assignment, Assignment.task_id == Task.id)
                .where(Assignment.agency_id == stp.agency_id, Assignment.role == "lead")
            ).all()
        )
    assert refs == lead - {"II.1.a"} and "II.2" in refs
    assert len(found) == 290  # every lead agency of the plan
    assert list(stp.task_ids) == sorted(stp.task_ids)


def test_task_deadlines_close_only_when_reported_done(any_engine):
    report(any_engine, "STP", vn(date(2024, 12, 1), 9), "in_progress", ref="II.1.a")
    report(any_engine, "STP", vn(date(2024, 12, 2), 9), "done", ref="II.1.b")
    with Session(any_engine) as session:
        stp = agency_id(session, "STP")
        (mine,) = task_obligations(session, [date(2024, 12, 31)], [stp])
        refs = {session.get(Task, t).ref for t in mine.task_ids}
    assert "II.1.a" in refs and "II.1.b" not in refs


def test_the_sweep_writes_each_reminder_once_with_its_buttons(any_engine):
    for code in ("STP", "STC"):
        add_contact(any_engine, "focal", code, f"9{code}")
    clock = FixedClock(vn(date(2024, 7, 2), 8, 5))
    ctx = Scheduling(any_engine, clock)
    first = sweep(ctx)
    clock.set(vn(date(2024, 7, 2), 10, 40))
    second = sweep(ctx)
    assert (first.written, second.written) == (2, 0)
    assert count(any_engine, Outbox, Outbox.kind == "reminder") == 2
    assert count(any_engine, ButtonToken) == 4  # report + snooze, per message
    with Session(any_engine) as session:
        row = session.exec(select(Outbox).where(Outbox.chat_id == "9STP")).one()
        record = session.exec(
            select(ReminderRecord).where(ReminderRecord.outbox_id == row.id)
        ).one()
    assert (
        row.idempotency_key
        == f"reminder:KH-CAITHIEN-2024:{record.agency_id}:2024-07-05:t-3:c{record.contact_id}"
    )
    assert row.not_before == vn(date(2024, 7, 2), 8, 5)
    payload = json.loads(row.payload)
    # the 05/7 round asks for a document: its reminder opens the document flow
    assert [b["text"] for b in payload["buttons"][0]] == ["Gửi văn bản", "Nhắc lại sau"]
    assert "Bấm «Gửi văn bản»" in payload["text"]
    # its facts for a template-only channel (ZNS outside the Zalo OA window)
    notice = payload["notice"]
    assert (notice["ref"], notice["deadline"]) == ("KH-CAITHIEN-2024", "2024-07-05")
    assert notice["title"].startswith("Kế hoạch cải thiện")


def test_nothing_is_written_on_days_off_before_08_00_or_after_hours(any_engine):
    add_contact(any_engine, "focal", "STP", "9STP")
    for moment in (
        vn(date(2024, 6, 29), 9),  # Saturday
        vn(date(2024, 7, 2), 7, 59),
        vn(date(2024, 7, 2), 17, 0),
    ):
        assert sweep(Scheduling(any_engine, FixedClock(moment))).written == 0
    assert count(any_engine, Outbox) == 0


def test_a_new_deadline_starts_a_new_ladder(any_engine):
    add_contact(any_engine, "focal", "STP", "9STP")
    clock = FixedClock(vn(date(2024, 7, 2), 9))
    sweep(Scheduling(any_engine, clock))
    with transaction(any_engine) as session:
        set_deadline(session, "KH-CAITHIEN-2024", date(2024, 7, 12))
    clock.set(vn(date(2024, 7, 9), 9))  # T−3 of the new deadline
    assert sweep(Scheduling(any_engine, clock)).written == 1


def test_snooze_once_per_level(any_engine):
    contact = add_contact(any_engine, "focal", "STP", "9STP")
    ctx = Scheduling(any_engine, FixedClock(vn(date(2024, 7, 2), 9)))
    sweep(ctx)
    with transaction(any_engine) as session:
        key = session.exec(select(Outbox.idempotency_key)).one()
        first = snooze(session, key, contact, date(2024, 7, 2), ctx.calendar(), VN)
        again = snooze(session, key, contact, date(2024, 7, 2), ctx.calendar(), VN)
        stranger = snooze(session, key, contact + 1, date(2024, 7, 2), ctx.calendar(), VN)
    assert first.until == date(2024, 7, 3)
    assert again.template == "reminders/snooze_once.j2"
    assert stranger.template == "reminders/snooze_gone.j2"


def test_one_digest_per_reader_per_working_day_muted_and_idle_get_none(any_engine):
    coordinator = add_contact(any_engine, "coordinator", "SNV", "1")
    add_contact(any_engine, "leader", "STP", "2", digest_muted=True)
    add_contact(any_engine, "focal", "STP", "3")  # KH-CAITHIEN open: has items
    add_contact(any_engine, "focal", "SYT", "4")  # nothing due: no digest
    clock = FixedClock(vn(date(2024, 7, 2), 7, 30))
    assert sweep_digest(Scheduling(any_engine, clock)).written == {"coordinator": 1, "focal": 1}
    clock.set(vn(date(2024, 7, 2), 9))
    assert sweep_digest(Scheduling(any_engine, clock)).skipped == "done_today"
    with Session(any_engine) as session:
        text = json.loads(
            session.exec(select(Outbox.payload).where(Outbox.contact_id == coordinator)).one()
        )["text"]
    assert "Kế hoạch cải thiện Chỉ số thành phần" in text  # closing within 3 working days
    assert "III." in text and "tổng" in text


def test_broadcast_audiences(any_engine):
    for code in ("STP", "STC", "SNV", "H-NUITHANH"):
        add_contact(any_engine, "focal", code, f"9{code}")
    send_round_document(any_engine, "SNV", vn(date(2024, 7, 1), 9))
    ctx = Scheduling(any_engine, FixedClock(vn(date(2024, 7, 10), 9)))

    def codes(audience: BroadcastAudience, today: date = date(2024, 7, 10)) -> set[str]:
        with Session(any_engine) as session:
            found = recipients(session, audience, today, VN, ctx.calendar())
            return {session.get(Agency, r.agency_id).code for r in found}

    assert codes(BroadcastAudience(AudienceKind.ALL_FOCAL)) == {
        "STP", "STC", "SNV", "H-NUITHANH",
    }  # fmt: skip
    assert codes(BroadcastAudience(AudienceKind.NOT_REPORTED, "KH-CAITHIEN-2024")) == {
        "STP", "STC",
    }  # fmt: skip
    assert codes(BroadcastAudience(AudienceKind.OVERDUE)) == {"STP", "STC"}
    assert codes(BroadcastAudience(AudienceKind.KIND, "district")) == {"H-NUITHANH"}
    assert codes(BroadcastAudience(AudienceKind.PICKED, codes=("STC",))) == {"STC"}
    assert "STP" in codes(BroadcastAudience(AudienceKind.AREA, "II"))


def test_only_one_process_leads_scheduling(any_engine):
    first = try_lead(any_engine)
    assert first is not None
    assert try_lead(any_engine) is None
    first.release()
    again = try_lead(any_engine)
    assert again is not None
    again.release()


def test_reminder_relevance_cancels_after_a_report(any_engine):
    from scheduler.reminders import reminder_relevance

    add_contact(any_engine, "focal", "STP", "9STP")
    sweep(Scheduling(any_engine, FixedClock(vn(date(2024, 7, 2), 8, 5))))
    check = reminder_relevance(VN)
    with Session(any_engine) as session:
        row = session.exec(select(Outbox)).one()
        assert check(session, row, date(2024, 7, 2)) is None
        assert check(session, row, date(2024, 7, 3)).startswith("stale")
    report(any_engine, "STP", datetime(2024, 7, 2, 2, tzinfo=UTC))  # a task report: not it
    with Session(any_engine) as session:
        assert check(session, row, date(2024, 7, 2)) is None
    send_round_document(any_engine, "STP", datetime(2024, 7, 2, 3, tzinfo=UTC))
    with Session(any_engine) as session:
        assert check(session, row, date(2024, 7, 2)).startswith("reported")


def test_the_coordinators_digest_lists_who_could_not_be_reached_on_zalo(any_engine):
    """Messages the OA channel held back outside the messaging window (marked with why) are
    listed by person in the next coordinator digest, with how many reminders did not go."""
    coordinator = add_contact(any_engine, "coordinator", "SNV", "1")
    hoa = add_contact(any_engine, "focal", "STP", "oa-1", "Nguyễn Thị Hoa", channel="zalo_oa")
    lan = add_contact(any_engine, "focal", "STC", "oa-2", "Trần Văn Lân", channel="zalo_oa")
    yesterday = vn(date(2024, 7, 1), 9)
    no_zns = outside_reason("no message within 48 h", NO_TEMPLATE, NO_PHONE)
    rows = [
        ("r1", hoa, "reminder", no_zns),
        ("r2", hoa, "reminder", no_zns),
        ("b1", lan, "broadcast", outside_reason("no message within 48 h", NOT_A_REMINDER)),
        ("x1", lan, "reminder", "rejected: chat_not_found"),  # another failure: not listed
    ]
    with transaction(any_engine) as session:
        for key, contact, kind, error in rows:
            session.add(
                Outbox(
                    idempotency_key=key,
                    channel="zalo_oa",
                    chat_id=str(contact),
                    contact_id=contact,
                    kind=kind,
                    payload="{}",
                    status="failed",
                    error=f"rejected: {error}",
                    claimed_at=yesterday,
                    created_at=yesterday,
                )
            )
    clock = FixedClock(vn(date(2024, 7, 2), 7, 30))
    assert sweep_digest(Scheduling(any_engine, clock)).written.get("coordinator") == 1
    with Session(any_engine) as session:
        text = json.loads(
            session.exec(select(Outbox.payload).where(Outbox.contact_id == coordinator)).one()
        )["text"]
    assert "Chưa liên lạc được qua Zalo OA (2 người)" in text
    assert (
        "Nguyễn Thị Hoa — Sở Tư pháp: 2 tin (chưa cấu hình mẫu tin ZNS; chưa có số điện thoại)"
        in text
    )
    assert "Trần Văn Lân" in text and "1 tin (không phải lời nhắc hạn)" in text
    assert "2 lời nhắc hạn chưa gửi được" in text


def test_a_deputy_reads_the_agencys_digest_only_while_the_main_focal_point_is_away(any_engine):
    from storage.deputies import set_absence, set_deputy

    main = add_contact(any_engine, "focal", "STP", "31")
    deputy = add_contact(any_engine, "focal", "STP", "32")
    with transaction(any_engine) as session:
        set_deputy(session, deputy, True, main, vn(date(2024, 7, 1)))
        set_absence(session, main, date(2024, 7, 3), date(2024, 7, 3), vn(date(2024, 7, 1)))

    def readers(day: date) -> set[int]:
        sweep_digest(Scheduling(any_engine, FixedClock(vn(day, 7, 30))))
        with Session(any_engine) as session:
            rows = session.exec(select(Outbox).where(Outbox.kind == "digest")).all()
        today = f"digest:{day.isoformat()}:"
        return {r.contact_id for r in rows if r.idempotency_key.startswith(today)}

    assert readers(date(2024, 7, 2)) == {main}
    assert readers(date(2024, 7, 3)) == {deputy}  # the main one is away that day
    assert readers(date(2024, 7, 4)) == {main}
