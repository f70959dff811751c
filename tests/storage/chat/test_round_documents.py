"""Rounds that ask for a document, at the storage seam (SQLite and PostgreSQL): the seed says
which round asks for a document and seeds the annual CCHC report; a document is saved in
versions per period; task reports are never filed under a document round; the report lists
who sent what (a returned document counts as not sent); obligations follow the document."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from core.conversation import IncomingFile
from core.flows.report import ReportDraft
from core.flows.round_document import DocumentDraft, DocumentRefused
from core.model import ReportStatus
from core.report_model import Scope
from core.round_documents import DocumentStatus
from messages.reports.build import compile_report
from messages.reports.json_export import report_dict
from storage.chat.reports import SqlReportStore
from storage.chat.round_documents import SqlDocumentStore, set_submission_status
from storage.db import transaction
from storage.scheduling.obligations import round_obligations
from storage.scheduling.rounds import get_round, set_deadline
from storage.tables.round_documents import RoundSubmission
from storage.tables.shared import Agency, ReportingRound, Task

VN = ZoneInfo("Asia/Ho_Chi_Minh")
JULY_1 = datetime(2024, 7, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội, the 05/7 round open
PDF = b"%PDF-1.7\n% ke hoach cai thien\n"


def agency_id(session: Session, code: str) -> int:
    return session.exec(select(Agency.id).where(Agency.code == code)).one()


def send(session: Session, code: str, at: datetime, number: str, content: bytes = PDF) -> str:
    """What the flow does: keep the upload, then save the draft (one transaction)."""
    store = SqlDocumentStore(session, VN)
    instance = f"i-{code}-{number}"
    request = SimpleNamespace(channel="telegram", chat_id="1", user_id="1")
    ctx = SimpleNamespace(request=request, now=at)
    upload = store.keep_upload(
        ctx, instance, IncomingFile("ke-hoach.pdf", "application/pdf", len(content), content)
    )
    round_ = get_round(session, "KH-CAITHIEN-2024")
    assert round_ is not None
    draft = DocumentDraft(
        round_.id, agency_id(session, code), 0, number, date(2024, 6, 28), "", upload.upload_id
    )
    draft = DocumentDraft(**{**draft.__dict__, "reporter_id": None})  # no contact in this test
    return store.save(draft, at, instance).receipt


def test_the_seed_asks_a_document_in_july_and_the_annual_report_in_december(any_engine):
    with Session(any_engine) as session:
        rounds = {r.code: r for r in session.exec(select(ReportingRound)).all()}
    assert rounds["KH-CAITHIEN-2024"].asks == "document"
    assert {c: r.asks for c, r in rounds.items() if c != "KH-CAITHIEN-2024"} == {
        "BC-QUY-III-2024": "status", "BC-TTHC-HANGTHANG": "status", "BC-CCHC-NAM-2024": "status",
    }  # fmt: skip
    annual = rounds["BC-CCHC-NAM-2024"]
    assert (annual.deadline, annual.opens_on) == (date(2024, 12, 15), date(2024, 12, 1))
    assert json.loads(annual.audience) == {"tasks": "*", "roles": ["lead"]}
    assert "báo cáo cải cách hành chính năm 2024" in annual.ask
    with transaction(any_engine) as session:  # editable like any round's deadline
        set_deadline(session, "BC-CCHC-NAM-2024", date(2024, 12, 20))
    with Session(any_engine) as session:
        assert get_round(session, "BC-CCHC-NAM-2024").deadline == date(2024, 12, 20)


def test_documents_are_versioned_and_answer_the_round_unless_returned(any_engine):
    with transaction(any_engine) as session:
        stp = agency_id(session, "STP")
        assert [r.code for r in SqlDocumentStore(session, VN).owed(stp, JULY_1)] == [
            "KH-CAITHIEN-2024"
        ]
        first = send(session, "STP", JULY_1, "120/KH-STP")
        second = send(session, "STP", JULY_1.replace(hour=4), "125/KH-STP", PDF + b"v2")
        owed = SqlDocumentStore(session, VN).owed(stp, JULY_1)
    assert first != second and owed[0].sent_receipt == second
    with Session(any_engine) as session:
        rows = session.exec(select(RoundSubmission).order_by(RoundSubmission.id)).all()
        round_ = get_round(session, "KH-CAITHIEN-2024")
        pending = round_obligations(session, [round_], date(2024, 7, 2), VN)
    assert [(r.version, r.is_latest, r.number, r.status) for r in rows] == [
        (1, False, "120/KH-STP", "submitted"), (2, True, "125/KH-STP", "submitted"),
    ]  # fmt: skip
    assert {r.period_deadline for r in rows} == {date(2024, 7, 5)}
    codes = {a for o in pending for a in [o.agency_id]}
    with Session(any_engine) as session:
        assert stp not in codes and agency_id(session, "STC") in codes

    with transaction(any_engine) as session:  # the review returns it: owed again
        set_submission_status(session, rows[1].id, DocumentStatus.RETURNED, None, JULY_1, "thiếu")
    with Session(any_engine) as session:
        pending = round_obligations(session, [get_round(session, "KH-CAITHIEN-2024")],
                                    date(2024, 7, 2), VN)  # fmt: skip
        report = compile_report(
            session, Scope(round_code="KH-CAITHIEN-2024", as_of=date(2024, 7, 2)), VN, JULY_1
        )
    assert stp in {o.agency_id for o in pending}
    [documents] = report_dict(report)["documents"]
    stp_row = next(a for a in documents["agencies"] if a["code"] == "STP")
    assert stp_row["state"] == "returned" and stp_row["submission"]["status"] == "returned"
    assert documents["totals"]["sent"] == 0 and documents["totals"]["returned"] == 1


def test_a_closed_round_or_a_lost_upload_takes_no_document(any_engine):
    with transaction(any_engine) as session:
        store = SqlDocumentStore(session, VN)
        round_ = get_round(session, "KH-CAITHIEN-2024")
        draft = DocumentDraft(round_.id, agency_id(session, "STP"), 0, "1/KH", date(2024, 7, 1),
                              "", 999_999)  # fmt: skip
        with pytest.raises(DocumentRefused) as lost:
            store.save(DocumentDraft(**{**draft.__dict__, "reporter_id": None}), JULY_1, "x")
        round_.status = "closed"
        session.add(round_)
        session.flush()
        assert store.owed(agency_id(session, "STP"), JULY_1) == []
        with pytest.raises(DocumentRefused) as closed:
            store.save(DocumentDraft(**{**draft.__dict__, "reporter_id": None}), JULY_1, "x")
    assert (lost.value.reason, closed.value.reason) == ("upload_gone", "round_gone")


def test_a_task_report_is_filed_only_under_a_round_that_covers_its_task(any_engine):
    with transaction(any_engine) as session:
        store = SqlReportStore(session, VN)
        task = session.exec(select(Task).where(Task.ref == "II.1.a")).one()
        stp = agency_id(session, "STP")

        def save(at: datetime):
            draft = ReportDraft(stp, task.id, None, ReportStatus.IN_PROGRESS, "Đã rà soát",
                                None, "")  # fmt: skip
            return store.save(draft, at, f"i-{at.isoformat()}")

        in_july = save(JULY_1)  # only the document round is open for STP
        in_september = save(datetime(2024, 9, 20, 3, tzinfo=UTC))  # quarter III covers it
        in_december = save(datetime(2024, 12, 10, 3, tzinfo=UTC))  # the annual report does
    assert (in_july.round_code, in_july.round_title) == (None, None)
    assert in_september.round_code == "BC-QUY-III-2024"
    assert in_december.round_code == "BC-CCHC-NAM-2024" and not in_december.late


def test_the_whole_plans_report_lists_document_rounds_within_its_scope(any_engine):
    with transaction(any_engine) as session:
        send(session, "STP", JULY_1, "125/KH-STP")
    with Session(any_engine) as session:
        whole = compile_report(session, Scope(as_of=date(2024, 7, 10)), VN, JULY_1)
        stp_only = compile_report(
            session, Scope(agency_code="STP", as_of=date(2024, 7, 10)), VN, JULY_1
        )
        quarter = compile_report(
            session, Scope(round_code="BC-QUY-III-2024", as_of=date(2024, 7, 10)), VN, JULY_1
        )
    [item] = whole.documents
    assert item.tally.asked == 6 and item.tally.sent == 1 and item.tally.not_sent == 5
    assert [r.state.value for r in item.rows][:2] == ["on_time", "overdue"]  # sent first
    assert [r.agency_code for r in stp_only.documents[0].rows] == ["STP"]
    assert quarter.documents == []  # a round asking task statuses has no document part
    assert whole.data.tasks  # the tasks are still there
