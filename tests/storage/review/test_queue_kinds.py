"""The `/duyet` queue's extension and document kinds at the storage seam, on SQLite and
PostgreSQL: one queue oldest first across reports, extension requests and round documents;
an extension decided in the queue goes through the same code as `/giahan` (the deadline moves,
the focal point is told; a refusal tells its reason); a round document is accepted or returned
once, by coordinators only, the focal point told through the outbox (a return with «Gửi lại
văn bản»), and a round whose plan needs no review takes the document as accepted."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from core.extensions import ExtensionDraft
from core.model import ReportStatus, UserRole
from core.review import DecisionRefused, decide
from messages.extensions import ExtensionService
from messages.review import queue_for
from storage.db import transaction
from storage.extensions import approved
from storage.review.store import set_plan_review
from storage.scheduling.rounds import get_round
from storage.tables.extensions import ExtensionRequest
from storage.tables.round_documents import RoundSubmission
from storage.tables.shared import ButtonToken, Outbox, Plan, Task
from tests.storage.chat.test_round_documents import agency_id, send
from tests.storage.review.test_review import actor, file_report
from tests.support.scheduling import add_contact

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MON = datetime(2024, 7, 1, 3, 0, tzinfo=UTC)  # Monday 10:00 in Hà Nội


def ask_extension(engine, focal: int, ref: str, new_date: date, at: datetime) -> int:
    with transaction(engine) as session:
        task = session.exec(select(Task).where(Task.ref == ref)).one()
        task.due_date = date(2024, 7, 10)
        session.add(task)
        session.flush()
        draft = ExtensionDraft(agency_id(session, "STP"), task.id, focal, new_date, "Thiếu người")
        return ExtensionService(session, TZ).request(draft, at).id


def send_document(engine, focal: int, at: datetime, number: str = "125/KH-STP") -> int:
    with transaction(engine) as session:
        receipt = send(session, "STP", at, number)
        row = session.exec(select(RoundSubmission).where(RoundSubmission.receipt == receipt)).one()
        row.reporter_id = focal
        session.add(row)
        return row.id


def told(engine, contact: int) -> list[Outbox]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Outbox).where(Outbox.contact_id == contact).order_by(Outbox.id)
            ).all()
        )


def test_one_queue_oldest_first_across_reports_extensions_and_documents(any_engine):
    engine = any_engine
    focal = add_contact(engine, "focal", "STP", "801")
    coord = actor(add_contact(engine, "coordinator", "SNV", "802"), UserRole.COORDINATOR)
    document = send_document(engine, focal, MON)
    request = ask_extension(engine, focal, "II.1.a", date(2024, 7, 25), MON + timedelta(hours=1))
    report = file_report(engine, "STP", "III.4.1", ReportStatus.DONE, "", MON + timedelta(hours=2))
    with transaction(engine) as session:
        queue = queue_for(session, TZ)
        order, skipped = [], []
        while (item := queue.head(skipped)) is not None:
            order.append((item.kind, item.key))
            skipped.append(f"{item.kind}:{item.key}")
        assert order == [
            ("document", str(document)),
            ("extension", str(request)),
            ("report", str(report.report_id)),
        ]
        only = queue_for(session, TZ, only={"extension"})
        assert [k.name for k in only] == ["extension"] and only.count() == 1
        # each kind shows itself in Vietnamese and offers its own actions
        shown = queue.get("extension").show(str(request))  # type: ignore[union-attr]
        assert shown is not None and shown.template == "extensions/review_item.j2"
        assert [a.value for a in queue.get("extension").actions(str(request))] == [  # type: ignore[union-attr]
            "approve", "reject",
        ]  # fmt: skip
        assert [a.value for a in queue.get("document").actions(str(document))] == [  # type: ignore[union-attr]
            "accept", "return",
        ]  # fmt: skip
        decided = decide(queue, coord, "extension", str(request), "approve", "", MON)
        assert decided.target.startswith(f"extension:{request} task:II.1.a")
        with pytest.raises(DecisionRefused) as twice:
            decide(queue, coord, "extension", str(request), "reject", "muộn", MON)
        assert twice.value.reason == "already_decided"
        assert queue.head() is not None and queue.head().kind == "document"  # type: ignore[union-attr]
    with Session(engine) as session:
        moved = approved(session)
        assert [e.new_date for e in moved.values()] == [date(2024, 7, 25)]
        assert session.get(ExtensionRequest, request).status == "approved"  # type: ignore[union-attr]
    notice = [o for o in told(engine, focal) if o.kind == "extension"]
    assert len(notice) == 1 and "gia hạn đến 25/07/2024" in json.loads(notice[0].payload)["text"]


def test_an_extension_refused_in_the_queue_tells_the_reason_and_moves_nothing(any_engine):
    engine = any_engine
    focal = add_contact(engine, "focal", "STP", "811")
    coord = actor(add_contact(engine, "coordinator", "SNV", "812"), UserRole.COORDINATOR)
    request = ask_extension(engine, focal, "II.1.a", date(2024, 7, 25), MON)
    with transaction(engine) as session:
        queue = queue_for(session, TZ)
        with pytest.raises(DecisionRefused) as focal_tries:
            decide(queue, actor(focal, UserRole.FOCAL, 1), "extension", str(request), "approve",
                   "", MON)  # fmt: skip
        assert focal_tries.value.reason == "not_coordinator"
        with pytest.raises(DecisionRefused) as empty:
            decide(queue, coord, "extension", str(request), "reject", "  ", MON)
        assert empty.value.reason == "no_text"
        decide(queue, coord, "extension", str(request), "reject", "Hạn do UBND tỉnh giao", MON)
    with Session(engine) as session:
        assert approved(session) == {}
        row = session.get(ExtensionRequest, request)
        assert row is not None and (row.status, row.refusal) == (
            "rejected", "Hạn do UBND tỉnh giao",
        )  # fmt: skip
    [notice] = [o for o in told(engine, focal) if o.kind == "extension"]
    assert "Lý do: Hạn do UBND tỉnh giao" in json.loads(notice.payload)["text"]


def test_a_document_is_returned_once_with_a_reason_and_a_button_to_send_it_again(any_engine):
    engine = any_engine
    focal = add_contact(engine, "focal", "STP", "821")
    coord = actor(add_contact(engine, "coordinator", "SNV", "822"), UserRole.COORDINATOR)
    document = send_document(engine, focal, MON)
    with transaction(engine) as session:
        queue = queue_for(session, TZ)
        with pytest.raises(DecisionRefused) as focal_tries:
            decide(queue, actor(focal, UserRole.FOCAL, 1), "document", str(document), "accept",
                   "", MON)  # fmt: skip
        assert focal_tries.value.reason == "not_coordinator"
        decided = decide(
            queue, coord, "document", str(document), "return", "Chưa có chữ ký, đóng dấu", MON
        )
        assert decided.target.startswith("document:VB-2024-")
        with pytest.raises(DecisionRefused) as twice:
            decide(queue, coord, "document", str(document), "accept", "", MON)
        assert twice.value.reason == "already_decided"
        assert queue.head() is None
    with Session(engine) as session:
        row = session.get(RoundSubmission, document)
        assert row is not None
        assert (row.status, row.status_reason, row.status_by) == (
            "returned", "Chưa có chữ ký, đóng dấu", coord.contact_id,
        )  # fmt: skip
        [notice] = told(engine, focal)
        payload = json.loads(notice.payload)
        assert notice.kind == "document_returned"
        assert "Lý do: Chưa có chữ ký, đóng dấu" in payload["text"]
        [[button]] = payload["buttons"]
        assert button["text"] == "Gửi lại văn bản"
        token = session.exec(select(ButtonToken).where(ButtonToken.contact_id == focal)).one()
        assert token.action == "round_document"
        round_ = get_round(session, "KH-CAITHIEN-2024")
        assert round_ is not None
        assert json.loads(token.args) == {"round_id": round_.id, "agency_id": row.agency_id}

    # sent again, then accepted: the focal point hears «Đạt»
    again = send_document(engine, focal, MON + timedelta(days=1), "126/KH-STP")
    with transaction(engine) as session:
        decide(queue_for(session, TZ), coord, "document", str(again), "accept", "", MON)
    assert [o.kind for o in told(engine, focal)] == ["document_returned", "document_accepted"]


def test_a_round_whose_plan_needs_no_review_takes_the_document_as_accepted(any_engine):
    engine = any_engine
    focal = add_contact(engine, "focal", "STP", "831")
    with transaction(engine) as session:
        round_ = get_round(session, "KH-CAITHIEN-2024")
        assert round_ is not None and round_.plan_id is not None
        code = session.get(Plan, round_.plan_id).code  # type: ignore[union-attr]
        set_plan_review(session, code, False)
    document = send_document(engine, focal, MON)
    with transaction(engine) as session:
        assert session.get(RoundSubmission, document).status == "accepted"  # type: ignore[union-attr]
        assert queue_for(session, TZ).head() is None
        set_plan_review(session, code, True)
    again = send_document(engine, focal, MON + timedelta(hours=1), "126/KH-STP")
    with Session(engine) as session:
        assert session.get(RoundSubmission, again).status == "submitted"  # type: ignore[union-attr]
