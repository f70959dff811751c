"""Chat storage on SQLite and PostgreSQL: invites, idempotency, report versions, rounds, expiry."""

from __future__ import annotations

import json
import unicodedata
from datetime import date, timedelta
from itertools import count

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.chat.dispatcher import Dispatcher
from bot.runtime import build_registry
from core.clock import FixedClock
from core.commands import InputKind, Request
from core.conversation import IncomingFile, Limits
from core.model import UserRole
from storage.chat.invites import (
    MAX_FAILURES,
    RedeemStatus,
    create_invite,
    hash_code,
    redeem_invite,
)
from storage.chat.reports import SqlReportStore
from storage.chat.state import ChatKey, find_agencies, link_contact, record_update
from storage.db import transaction
from storage.tables.chat import ChatFlow, Invite, PendingUpload, ProcessedUpdate
from storage.tables.shared import (
    Agency,
    AuditLog,
    EvidenceFile,
    Outbox,
    ReportingRound,
    StatusReport,
    Task,
)
from tests.support.chat import T0

KEY = ChatKey("telegram", "77", "77")


def agency_id(session: Session, code: str) -> int:
    return session.exec(select(Agency.id).where(Agency.code == code)).one()


def test_invites_are_hashed_single_use_expiring_and_lock_out(any_engine):
    with transaction(any_engine) as session:
        stp = agency_id(session, "STP")
        code = create_invite(session, stp, UserRole.FOCAL, T0 + timedelta(days=1), "cli", T0)
        old = create_invite(session, stp, UserRole.FOCAL, T0 - timedelta(seconds=1), "cli", T0)
    with Session(any_engine) as session:
        hashes = set(session.exec(select(Invite.code_hash)))
    assert hashes == {hash_code(code), hash_code(old)} and code not in "".join(hashes)

    with transaction(any_engine) as session:
        assert redeem_invite(session, old, KEY, "A", T0).status is RedeemStatus.EXPIRED
        typed = "  " + "-".join([code[:4], code[4:8], code[8:]]).lower()  # dashes, spaces, case
        result = redeem_invite(session, typed, KEY, "Nguyễn Văn A", T0)
        assert result.status is RedeemStatus.OK and result.contact.agency_id == stp
        other = ChatKey("telegram", "78", "78")
        assert redeem_invite(session, code, other, "B", T0).status is RedeemStatus.USED

    # lockout: MAX_FAILURES wrong codes within 15 minutes lock for 30 minutes
    intruder = ChatKey("telegram", "99", "99")
    with transaction(any_engine) as session:
        valid = create_invite(session, stp, UserRole.FOCAL, T0 + timedelta(days=1), "cli", T0)
    clock = T0
    statuses = []
    for _ in range(MAX_FAILURES):
        clock += timedelta(minutes=2)
        with transaction(any_engine) as session:
            statuses.append(redeem_invite(session, "NOPE", intruder, "", clock).status)
    assert statuses == [RedeemStatus.UNKNOWN] * (MAX_FAILURES - 1) + [RedeemStatus.LOCKED]
    with transaction(any_engine) as session:
        locked = redeem_invite(session, valid, intruder, "", clock + timedelta(minutes=29))
        assert locked.status is RedeemStatus.LOCKED
    with transaction(any_engine) as session:
        ok = redeem_invite(session, valid, intruder, "", clock + timedelta(minutes=31))
        assert ok.status is RedeemStatus.OK


def test_failures_spread_over_time_do_not_lock(any_engine):
    intruder = ChatKey("telegram", "98", "98")
    for i in range(MAX_FAILURES * 2):
        with transaction(any_engine) as session:
            at = T0 + timedelta(minutes=16 * i // (MAX_FAILURES - 1))
            assert redeem_invite(session, "NOPE", intruder, "", at).status is RedeemStatus.UNKNOWN


def test_an_update_id_is_recorded_once(any_engine):
    with transaction(any_engine) as session:
        record_update(session, "telegram", 10_000_000_001, T0)
    with pytest.raises(IntegrityError), transaction(any_engine) as session:
        record_update(session, "telegram", 10_000_000_001, T0)
    with transaction(any_engine) as session:
        record_update(session, "console", 10_000_000_001, T0)  # ids are per channel


class Driver:
    """Drives the dispatcher the way an adapter does, with increasing update ids."""

    def __init__(self, engine, clock: FixedClock, user: str = "501") -> None:
        self.dispatcher = Dispatcher(engine, build_registry(), clock, Limits())
        self.user = user
        self.ids = count(1)
        self.last = None

    def __call__(self, kind: InputKind, **fields):
        request = Request(
            "telegram", self.user, self.user, kind, dedupe_key=str(next(self.ids)), **fields
        )
        response = self.dispatcher.handle(request)
        self.last = response
        return response

    def text(self, text: str) -> str:
        return "\n".join(m.text for m in self(InputKind.TEXT, text=text).messages)

    def command(self, name: str, args: str = "") -> str:
        return "\n".join(m.text for m in self(InputKind.COMMAND, command=name, text=args).messages)

    def press(self, label: str) -> str:
        buttons = [b for m in self.last.messages for row in m.buttons for b in row]
        button = next(b for b in buttons if label in b.text)
        return "\n".join(m.text for m in self(InputKind.BUTTON, button=button.data).messages)


def report_once(drive: Driver, ref: str, result: str, files: list[IncomingFile]) -> str:
    drive.command("baocao", ref)
    drive.press("Hoàn thành")
    drive.text(result)
    if "trên 95%" in drive.last.messages[-1].text:  # the figure step
        drive.text("100")
    drive.press("Bỏ qua")  # difficulties
    for file in files:
        drive(InputKind.FILE, file=file)
    drive.press("Xong" if files else "Bỏ qua")
    return drive.press("Gửi")


def test_report_versions_rounds_and_evidence(any_engine):
    clock = FixedClock(T0)
    with transaction(any_engine) as session:
        link_contact(
            session,
            ChatKey("telegram", "501", "501"),
            "",
            agency_id(session, "STP"),
            UserRole.FOCAL,
        )
        task = session.exec(select(Task).where(Task.ref == "III.4.1")).one()
        session.add(  # a round that covers the task (the seeded 05/7 round asks for a document)
            ReportingRound(
                plan_id=task.plan_id,
                code="BC-III41",
                title="Báo cáo nhiệm vụ III.4.1",
                deadline=date(2024, 7, 31),
                opens_on=date(2024, 6, 1),
                audience=json.dumps({"tasks": ["III.4.1"], "roles": ["lead"]}),
            )
        )
    drive = Driver(any_engine, clock)
    pdf = IncomingFile("bien-ban.pdf", "application/pdf", 9, b"%PDF-1.7\n")
    first = report_once(drive, "III.4.1", "Lần một", [pdf, pdf])  # the same file twice: kept once
    assert "BC-2024-" in first and "kèm 1 tệp" in first
    clock.advance(timedelta(days=1))
    second = report_once(drive, "III.4.1", "Lần hai", [])
    assert "phiên bản 2" in second
    # after the round closes, a new report starts a new series outside that round
    with transaction(any_engine) as session:
        for row in session.exec(select(ReportingRound)):
            row.status = "closed"
    clock.advance(timedelta(days=1))
    third = report_once(drive, "III.4.1", "Lần ba", [])
    assert "phiên bản 1" in third and "Thuộc kỳ báo cáo" not in third

    with Session(any_engine) as session:
        rows = session.exec(select(StatusReport).order_by(StatusReport.id)).all()
        round_id = session.exec(
            select(ReportingRound.id).where(ReportingRound.code == "BC-III41")
        ).one()
        evidence = session.exec(select(EvidenceFile)).all()
        audits = session.exec(select(AuditLog).where(AuditLog.action == "report_submit")).all()
        assert session.exec(select(PendingUpload)).all() == []
    assert [(r.version, r.is_latest, r.round_id, r.result) for r in rows] == [
        (1, False, round_id, "Lần một"),
        (2, True, round_id, "Lần hai"),
        (1, True, None, "Lần ba"),
    ]
    assert [r.receipt for r in rows] == [f"BC-2024-{r.id:06d}" for r in rows]
    assert [(e.report_id, e.file_name, e.content) for e in evidence] == [
        (rows[0].id, "bien-ban.pdf", b"%PDF-1.7\n")
    ]
    assert len(audits) == 3


def test_round_audiences(any_engine):
    with transaction(any_engine) as session:
        task = session.exec(select(Task).where(Task.ref == "III.4.1")).one()
        stp = session.exec(select(Agency).where(Agency.code == "STP")).one()
        tam_ky = session.exec(select(Agency).where(Agency.kind == "district")).first()
        for row in session.exec(select(ReportingRound)):
            row.status = "closed"
        session.add_all(
            [
                ReportingRound(
                    plan_id=task.plan_id,
                    code="FUTURE",
                    title="Mở sau",
                    deadline=date(2024, 9, 1),
                    opens_on=date(2024, 8, 1),
                    audience=json.dumps({"kinds": ["department"]}),
                ),
                ReportingRound(
                    plan_id=task.plan_id,
                    code="BY-TASK",
                    title="Theo nhiệm vụ",
                    deadline=date(2024, 7, 31),
                    audience=json.dumps({"tasks": ["III.4.1"], "roles": ["lead"]}),
                ),
                ReportingRound(
                    plan_id=task.plan_id,
                    code="DISTRICTS",
                    title="Cấp huyện",
                    deadline=date(2024, 7, 10),
                    audience=json.dumps({"kinds": ["district"]}),
                ),
            ]
        )
    with Session(any_engine) as session:
        store = SqlReportStore(session)
        found = store.open_round(task, stp, T0)
        assert found is not None and found.code == "BY-TASK"
        district = store.open_round(task, tam_ky, T0)
        assert district is not None and district.code == "DISTRICTS"
        later = store.open_round(task, stp, T0 + timedelta(days=40))
        assert later is not None and later.code in {"FUTURE", "BY-TASK"}


def test_idle_flows_expire_into_the_outbox(any_engine):
    clock = FixedClock(T0)
    with transaction(any_engine) as session:
        contact = link_contact(
            session,
            ChatKey("telegram", "501", "501"),
            "",
            agency_id(session, "STP"),
            UserRole.FOCAL,
        )
    drive = Driver(any_engine, clock)
    drive.command("baocao", "III.4.1")
    drive.press("Đang thực hiện")
    assert drive.dispatcher.expire_idle() == 0
    clock.advance(timedelta(hours=25))
    assert drive.dispatcher.expire_idle() == 1
    assert drive.dispatcher.expire_idle() == 0
    with Session(any_engine) as session:
        assert session.exec(select(ChatFlow)).all() == []
        [row] = session.exec(select(Outbox)).all()
    assert (row.channel, row.chat_id, row.contact_id, row.kind) == (
        "telegram",
        "501",
        contact.id,
        "flow_expired",
    )
    assert "hết hạn" in json.loads(row.payload)["text"]


def test_agency_search_ignores_diacritics_and_case(any_engine):
    with Session(any_engine) as session:
        assert find_agencies(session, "stp") == [("STP", "Sở Tư pháp")]
        assert find_agencies(session, unicodedata.normalize("NFD", "sở tư pháp")) == [
            ("STP", "Sở Tư pháp")
        ]
        assert ("STP", "Sở Tư pháp") in find_agencies(session, "tu phap")
        assert find_agencies(session, "khong co co quan nay") == []


def test_old_update_ids_are_pruned_by_the_sweep(any_engine):
    clock = FixedClock(T0)
    dispatcher = Dispatcher(any_engine, build_registry(), clock)
    with transaction(any_engine) as session:
        record_update(session, "telegram", 1, T0 - timedelta(days=8))
        record_update(session, "telegram", 2, T0 - timedelta(days=1))
    assert dispatcher.prune_updates() == 1
    with Session(any_engine) as session:
        assert [r.update_id for r in session.exec(select(ProcessedUpdate))] == ["2"]
