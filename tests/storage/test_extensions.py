"""Extension requests and deputies in the database, on SQLite and PostgreSQL: requests and
decisions (with their outbox messages and the dashboard's stored evaluation), the reminder
obligations that follow an approved date, who receives an agency's reminders and nudges, and
the migration that picks the main focal point of agencies that already had several."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, select

from core.broadcast import AudienceKind, BroadcastAudience
from core.extensions import Decision, ExtensionDraft, ExtensionRefused, ExtensionStatus
from messages.extensions import ExtensionService
from storage.db import make_engine, transaction
from storage.deputies import recipients_by_agency, set_absence, set_deputy
from storage.extensions import approved, approved_dates
from storage.migrate import alembic_config, upgrade
from storage.reports.evaluation_store import refresh_all
from storage.scheduling.broadcast import recipients
from storage.scheduling.calendar import load_calendar
from storage.scheduling.obligations import task_obligations
from storage.tables.reports import AssignmentEvaluation
from storage.tables.shared import Agency, Outbox, Task
from tests.support.scheduling import VN, add_contact

NOW = datetime(2024, 7, 10, 3, tzinfo=UTC)
OLD, NEW = date(2024, 7, 15), date(2024, 7, 31)


def _task(engine, ref: str, due: date) -> tuple[int, int]:
    """Date task `ref` (STP leads it alone) and return (task id, STP's id)."""
    with transaction(engine) as session:
        task = session.exec(select(Task).where(Task.ref == ref)).one()
        task.due_date = due
        session.add(task)
        stp = session.exec(select(Agency.id).where(Agency.code == "STP")).one()
        return task.id, stp


def _ask(engine, task_id: int, agency_id: int, contact: int, new: date = NEW) -> int:
    with transaction(engine) as session:
        service = ExtensionService(session, VN)
        return service.request(
            ExtensionDraft(agency_id, task_id, contact, new, "Chờ số liệu của Bộ"), NOW
        ).id


def _obligated(engine, day: date) -> set[tuple[int, int]]:
    with Session(engine) as session:
        return {(t, o.agency_id) for o in task_obligations(session, [day]) for t in o.task_ids}


def test_approved_extension_moves_the_pair_and_tells_the_focal_point(any_engine):
    engine = any_engine
    task_id, stp = _task(engine, "II.1.a", OLD)
    focal = add_contact(engine, "focal", "STP", "501", name="Anh Tư pháp")
    coordinator = add_contact(engine, "coordinator", "SNV", "502", name="Chị Hoa")
    with transaction(engine) as session:
        refresh_all(session, VN, NOW)
    assert (task_id, stp) in _obligated(engine, OLD)

    request_id = _ask(engine, task_id, stp, focal)
    with pytest.raises(ExtensionRefused, match="pending"):  # one pending request per pair
        _ask(engine, task_id, stp, focal)
    with transaction(engine) as session:
        service = ExtensionService(session, VN)
        assert [r.id for r in service.pending()] == [request_id]
        assert service.next_pending([request_id]) is None  # skipped in this session
        info = service.decide(request_id, Decision.APPROVE, coordinator, "", NOW)
    assert info.status is ExtensionStatus.APPROVED and info.current_deadline == OLD

    with Session(engine) as session:
        extension = approved(session)[(task_id, stp)]
        assert (extension.original, extension.new_date, extension.decided_by) == (
            OLD,
            NEW,
            "Chị Hoa",
        )
        outbox = {o.idempotency_key: o for o in session.exec(select(Outbox)).all()}
        stored = session.get(AssignmentEvaluation, (0, task_id, stp))
    assert f"extension:{request_id}:asked:c{coordinator}" in outbox
    decided = outbox[f"extension:{request_id}:decided"]
    assert decided.chat_id == "501" and "gia hạn đến 31/07/2024" in decided.payload
    # the dashboard's stored evaluation was refreshed in the same transaction
    assert stored is not None and stored.deadline == NEW and stored.extended_from == OLD
    # the reminder ladder: nothing owed on the old date, owed on the new one
    assert (task_id, stp) not in _obligated(engine, OLD)
    assert (task_id, stp) in _obligated(engine, NEW)
    # a second coordinator, too late: nothing changes
    with transaction(engine) as session, pytest.raises(ExtensionRefused, match="decided"):
        ExtensionService(session, VN).decide(request_id, Decision.REJECT, coordinator, "x", NOW)


def test_rejected_extension_moves_nothing_and_the_reason_reaches_the_focal_point(any_engine):
    engine = any_engine
    task_id, stp = _task(engine, "II.1.b", OLD)
    focal = add_contact(engine, "focal", "STP", "601")
    coordinator = add_contact(engine, "coordinator", "SNV", "602")
    request_id = _ask(engine, task_id, stp, focal)
    with transaction(engine) as session:
        ExtensionService(session, VN).decide(
            request_id, Decision.REJECT, coordinator, "Hạn do UBND tỉnh giao", NOW
        )
    with Session(engine) as session:
        assert approved_dates(session) == {}
        notice = session.exec(
            select(Outbox).where(Outbox.idempotency_key == f"extension:{request_id}:decided")
        ).one()
    assert "không chấp thuận" in notice.payload and "Hạn do UBND tỉnh giao" in notice.payload
    assert (task_id, stp) in _obligated(engine, OLD)
    assert (task_id, stp) not in _obligated(engine, NEW)


def test_a_decision_reaches_the_agency_when_the_asker_no_longer_can(any_engine):
    engine = any_engine
    task_id, stp = _task(engine, "II.1.b", OLD)
    asker = add_contact(engine, "focal", "STP", "611")
    other = add_contact(engine, "focal", "STP", "612")
    coordinator = add_contact(engine, "coordinator", "SNV", "613")
    request_id = _ask(engine, task_id, stp, asker)
    with transaction(engine) as session:
        session.execute(text(f"UPDATE contact SET active = false WHERE id = {asker}"))
        ExtensionService(session, VN).decide(request_id, Decision.APPROVE, coordinator, "", NOW)
    with Session(engine) as session:
        keys = set(session.exec(select(Outbox.idempotency_key)).all())
    assert f"extension:{request_id}:decided:c{other}" in keys
    assert f"extension:{request_id}:decided" not in keys


def test_reminders_and_nudges_go_to_the_deputy_while_the_main_focal_point_is_away(any_engine):
    engine = any_engine
    main = add_contact(engine, "focal", "STP", "701", name="Đầu mối chính")
    deputy = add_contact(engine, "focal", "STP", "702", name="Đầu mối thay thế")
    leader = add_contact(engine, "leader", "STP", "703")
    with transaction(engine) as session:
        stp = session.exec(select(Agency.id).where(Agency.code == "STP")).one()
        set_deputy(session, deputy, True, main, NOW)
        set_absence(session, main, date(2024, 7, 15), date(2024, 7, 19), NOW)

    def to(day: date) -> list[int]:
        with Session(engine) as session:
            return [c.id for c in recipients_by_agency(session, [stp], day).get(stp, [])]

    def nudged(day: date) -> list[int]:
        audience = BroadcastAudience(AudienceKind.PICKED, codes=("STP",))
        with Session(engine) as session:
            cal = load_calendar(session, [2024])
            return [r.contact_id for r in recipients(session, audience, day, VN, cal)]

    assert to(date(2024, 7, 12)) == [main] == nudged(date(2024, 7, 12))
    assert to(date(2024, 7, 15)) == [deputy] == nudged(date(2024, 7, 17))
    assert to(date(2024, 7, 22)) == [main]
    with transaction(engine) as session:  # no deputy: the leader stands in
        set_deputy(session, deputy, True, main, NOW)
        session.execute(text(f"UPDATE contact SET active = false WHERE id = {deputy}"))
    assert to(date(2024, 7, 16)) == [leader]


def test_migration_keeps_the_first_linked_focal_point_as_main(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0012")
        connection.execute(
            text(
                "INSERT INTO agency (id, code, name, kind, aliases, active) VALUES "
                "(1, 'STP', 'Sở Tư pháp', 'department', '', true), "
                "(2, 'STC', 'Sở Tài chính', 'department', '', true)"
            )
        )
        for cid, agency in ((11, 1), (12, 1), (13, 1), (21, 2)):
            connection.execute(
                text(
                    "INSERT INTO contact (id, channel, user_id, chat_id, display_name, agency_id,"
                    " role, active, digest_muted, created_at) VALUES (:id, 'telegram', :u, :u,"
                    " '', :a, 'focal', true, false, CURRENT_TIMESTAMP)"
                ),
                {"id": cid, "u": str(cid), "a": agency},
            )
    upgrade(engine)
    with engine.connect() as connection:
        deputies = (
            connection.execute(
                text("SELECT contact_id FROM focal_seat WHERE deputy ORDER BY contact_id")
            )
            .scalars()
            .all()
        )
    assert deputies == [12, 13]  # STP: 11 stays main; STC's only focal point has no row
    engine.dispose()
