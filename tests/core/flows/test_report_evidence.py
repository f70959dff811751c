"""The report flow's evidence step on a channel that never receives files (Zalo's Bot
Platform): it offers the upload link itself, from the `FileLinks` port, and says what to do
when there is no web server; a channel that receives files gets no link."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from core import conversation as engine
from core.channel import TELEGRAM_CAPABILITIES, TEXT_CAPABILITIES
from core.commands import ChatContext
from core.conversation import Answer, AnswerKind, IncomingFile
from core.files import InProcessFileLinks
from core.flows.report import ReportDraft, Saved, TaskItem, UploadRef, build_report_flow
from core.model import UserRole
from tests.core.flows.driver import FakeContext, FlowDriver, actor

TASK = TaskItem(
    task_id=7,
    ref="III.4.1",
    title="Giải quyết hồ sơ đúng hạn",
    area_code="III",
    area_title="Cải cách thủ tục hành chính",
    roles=("lead",),
    due_date=date(2024, 12, 31),
    schedule="",
    expected_output="",
)


@dataclass
class OneTask:
    kept: list[IncomingFile] = field(default_factory=list)

    def tasks_for(self, agency_id: int) -> list[TaskItem]:
        return [TASK]

    def task(self, agency_id: int, task_id: int) -> TaskItem | None:
        return TASK if task_id == TASK.task_id else None

    def keep_upload(self, ctx: ChatContext, instance: str, file: IncomingFile) -> UploadRef:
        self.kept.append(file)
        return UploadRef(len(self.kept), file.file_name, file.size)

    def drop_uploads(self, instance: str) -> None:
        self.kept.clear()

    def save(self, draft: ReportDraft, now: datetime, instance: str) -> Saved:
        return Saved(1, "BC-2024-000001", 1, None, None, len(draft.upload_ids))


def at_evidence_step(ctx: FakeContext) -> tuple[FlowDriver, OneTask]:
    store = OneTask()
    driver = FlowDriver(build_report_flow(lambda c: store), ctx)
    driver.start()
    driver.press("7")
    driver.press("in_progress")
    driver.type("Đã giải quyết 965/1.000 hồ sơ")
    driver.type("bỏ qua")
    assert driver.step == "files"
    return driver, store


def focal(**kwargs: Any) -> FakeContext:
    return FakeContext(actor=actor(UserRole.FOCAL, "STP"), **kwargs)


def test_a_channel_without_inbound_files_is_offered_the_upload_link_for_this_report():
    links = InProcessFileLinks("https://parbot.example.gov.vn/u/")
    driver, _ = at_evidence_step(focal(capabilities=TEXT_CAPABILITIES, files=links))
    asked = driver.question()
    [(token, (target, _expires))] = links.uploads.items()
    assert f"https://parbot.example.gov.vn/u/up/{token}" in asked
    assert "ảnh chụp văn bản ngay tại đây" in asked  # images still come in the chat
    assert (target.contact_id, target.task_id, target.chat_id) == (1, 7, "u1")
    assert driver.state is not None and target.flow_instance == driver.state.data["_instance"]


def test_without_a_web_server_the_step_says_what_to_do_instead_of_a_link():
    driver, _ = at_evidence_step(focal(capabilities=TEXT_CAPABILITIES))
    asked = driver.question()
    assert "http" not in asked
    assert "chưa bật trang web" in asked and "ảnh chụp văn bản" in asked


def test_an_image_sent_in_chat_is_still_taken_as_evidence_on_such_a_channel():
    links = InProcessFileLinks()
    driver, store = at_evidence_step(focal(capabilities=TEXT_CAPABILITIES, files=links))
    image = IncomingFile("anh.jpg", "image/jpeg", 4, b"\xff\xd8\xff\xe0")
    assert driver.state is not None
    sent = Answer(AnswerKind.FILE, file=image)
    driver._apply(engine.handle(driver.flow, driver.state, driver.ctx, sent, driver.ctx.now))
    assert any("anh.jpg" in line for line in driver.said())
    assert [f.file_name for f in store.kept] == ["anh.jpg"]


def test_a_channel_that_receives_files_gets_no_upload_link():
    links = InProcessFileLinks()
    for caps in (TELEGRAM_CAPABILITIES, replace(TEXT_CAPABILITIES, inbound_files=True)):
        driver, _ = at_evidence_step(focal(capabilities=caps, files=links))
        assert "http" not in driver.question() and "trang web" not in driver.question()
    assert links.uploads == {}
