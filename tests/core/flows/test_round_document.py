"""The round-document flow on a fake store: what it accepts and refuses, and how /baocao's
task list hands over to it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from core import conversation as engine
from core.channel import TEXT_CAPABILITIES
from core.conversation import Answer, AnswerKind, IncomingFile, Invalid
from core.files import InProcessFileLinks
from core.flows.report import build_report_flow
from core.flows.round_document import (
    FLOW,
    DocumentDraft,
    DocumentSaved,
    DocumentUpload,
    OwedRound,
    build_round_document_flow,
    start_data,
)
from core.model import UserRole
from tests.core.flows.driver import FakeContext, FlowDriver, actor

PDF = b"%PDF-1.7\n% ke hoach\n"


class MemoryDocuments:
    def __init__(self, agency_id: int = 10, open_: bool = True) -> None:
        self.agency_id, self.open = agency_id, open_
        self.saved: list[DocumentDraft] = []
        self.uploads: dict[int, str] = {}

    def owed(self, agency_id: int, now: datetime) -> list[OwedRound]:
        if agency_id != self.agency_id or not self.open:
            return []
        return [
            OwedRound(7, "KH-CAITHIEN-2024", "Kế hoạch cải thiện", "Gửi kế hoạch", date(2024, 7, 5))
        ]

    def keep_upload(self, ctx: Any, instance: str, file: IncomingFile) -> DocumentUpload:
        self.uploads[len(self.uploads) + 1] = file.file_name
        return DocumentUpload(len(self.uploads), file.file_name, file.size)

    def drop_uploads(self, instance: str) -> None:
        self.uploads.clear()

    def save(self, draft: DocumentDraft, now: datetime, instance: str) -> DocumentSaved:
        self.saved.append(draft)
        return DocumentSaved("VB-2024-000001", 1, "Kế hoạch cải thiện", date(2024, 7, 5), False,
                             self.uploads[draft.upload_id])  # fmt: skip


def focal() -> FakeContext:
    return FakeContext(actor(UserRole.FOCAL, "STP"))


def send_file(drive: FlowDriver, name: str, content: bytes) -> None:
    assert drive.state is not None
    file = IncomingFile(name, "application/octet-stream", len(content), content)
    drive._apply(
        engine.handle(
            drive.flow, drive.state, drive.ctx, Answer(AnswerKind.FILE, file=file), drive.ctx.now
        )
    )


def started(store: MemoryDocuments, ctx: FakeContext) -> FlowDriver:
    drive = FlowDriver(build_round_document_flow(lambda c: store), ctx)
    drive.start(start_data(ctx, store, 7))
    return drive


def test_a_document_with_its_number_date_and_note_is_saved():
    store = MemoryDocuments()
    drive = started(store, focal())
    send_file(drive, "bang-tinh.xlsx", b"PK\x03\x04")  # a workbook is not a document here
    assert drive.step == "files" and "XLSX" in drive.said()[0]
    send_file(drive, "ke-hoach.pdf", PDF)
    assert drive.step == "number" and "📎 Đã nhận “ke-hoach.pdf”" in drive.question()
    drive.type("không có số")
    assert drive.step == "number" and "cần có số văn bản" in drive.said()[0]
    drive.type("125/KH-STP")
    for typed, words in [
        ("31/02/2024", "không phải một ngày có thật"),
        ("hôm qua", "không phải một ngày có thật"),
        ("02/07/2024", "còn ở phía trước"),  # the context's today is 01/07/2024
        ("01/07/1999", "quá xa"),
    ]:
        drive.type(typed)
        assert drive.step == "issued_on" and words in drive.said()[0], typed
    drive.type("28/6/2024")
    drive.press("@skip")
    assert "Ghi chú: không có" in drive.question()
    drive.press("ok")
    assert "Số biên nhận: VB-2024-000001" in drive.said()[0]
    [draft] = store.saved
    assert (draft.number, draft.issued_on, draft.note, draft.agency_id) == (
        "125/KH-STP", date(2024, 6, 28), "", 10,
    )  # fmt: skip


def test_only_a_focal_point_of_an_agency_asked_may_start_or_send():
    store = MemoryDocuments()
    with pytest.raises(Invalid):
        start_data(FakeContext(actor(UserRole.COORDINATOR, "SNV")), store, 7)
    with pytest.raises(Invalid):
        start_data(focal(), MemoryDocuments(agency_id=99), 7)
    ctx = focal()
    drive = started(store, ctx)
    send_file(drive, "ke-hoach.pdf", PDF)
    drive.type("125/KH-STP")
    drive.type("28/06/2024")
    drive.type("Bản chính thức")
    store.open = False  # the round closed meanwhile
    drive.press("ok")
    assert "đã đóng" in drive.said()[0] and store.saved == []
    assert ctx.audits[-1]["outcome"] == "refused" and store.uploads == {}


def test_baocao_offers_the_owed_document_first_and_hands_over_to_its_flow():
    class NoTasks:
        def tasks_for(self, agency_id: int) -> list[Any]:
            return []

    store = MemoryDocuments()
    ctx = focal()
    drive = FlowDriver(build_report_flow(lambda c: NoTasks(), lambda c: store), ctx)  # type: ignore[arg-type]
    drive.start()
    assert drive.labels()[0].startswith("📄 Gửi văn bản: Kế hoạch cải thiện")
    assert "còn phải gửi văn bản" in drive.question()
    drive.press("doc:7")
    assert drive.state is None and ctx.started[0][0] == FLOW
    assert ctx.started[0][1]["round_id"] == 7


def test_on_a_channel_without_inbound_files_the_file_step_offers_its_upload_link_unasked():
    links = InProcessFileLinks("https://parbot.example.gov.vn/u/")
    ctx = FakeContext(actor(UserRole.FOCAL, "STP"), capabilities=TEXT_CAPABILITIES, files=links)
    drive = started(MemoryDocuments(), ctx)
    asked = drive.question()
    [(token, (target, _expires))] = links.uploads.items()
    assert f"https://parbot.example.gov.vn/u/up/{token}" in asked
    assert "không đến được hệ thống" in asked and "/web" not in asked
    # the link is for this document flow: no task (0), this very flow instance
    assert drive.state is not None
    assert (target.task_id, target.flow_instance) == (0, drive.state.data["_instance"])


def test_without_a_web_server_the_file_step_says_to_send_the_document_another_way():
    drive = started(
        MemoryDocuments(), FakeContext(actor(UserRole.FOCAL, "STP"), capabilities=TEXT_CAPABILITIES)
    )
    asked = drive.question()
    assert "http" not in asked and "chưa bật trang web" in asked


def test_a_channel_that_receives_files_gets_no_link_but_is_told_of_web():
    links = InProcessFileLinks()
    drive = started(MemoryDocuments(), FakeContext(actor(UserRole.FOCAL, "STP"), files=links))
    assert links.uploads == {} and "/web" in drive.question()
