"""The guided status report: task → status → result → figure → difficulties → files → send.

Pure flow definition; the data it needs comes through the `ReportStore` port (implemented in
storage/chat/reports.py), so the same steps run on every channel and in unit tests. The
reporter's right to report is checked when the task is chosen and again when the report is
saved (the link may have changed in between).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from core.auth import may_report
from core.commands import ChatContext
from core.conversation import (
    CANCEL,
    FINISH,
    Choice,
    Expect,
    Flow,
    IncomingFile,
    Invalid,
    Step,
    Text,
    check_file,
    say,
)
from core.flows.round_document import FLOW as DOCUMENT_FLOW
from core.flows.round_document import DocumentStore, start_data
from core.flows.targets import meets, parse_figure, primary_target
from core.flows.upload_link import upload_link
from core.model import ReportStatus

FLOW = "report"
STATUSES: tuple[ReportStatus, ...] = tuple(ReportStatus)
EDITABLE = ("status", "result", "figure", "difficulties", "files")


@dataclass(frozen=True)
class TaskItem:
    """One task of an agency's assignments, as the chat shows it."""

    task_id: int
    ref: str
    title: str
    area_code: str
    area_title: str
    roles: tuple[str, ...]  # "lead", "coordinate"
    due_date: date | None
    schedule: str
    expected_output: str
    latest_status: str | None = None
    latest_at: datetime | None = None
    latest_version: int | None = None
    latest_receipt: str | None = None


@dataclass(frozen=True)
class UploadRef:
    upload_id: int
    file_name: str
    size: int


@dataclass
class ReportDraft:
    agency_id: int
    task_id: int
    reporter_id: int
    status: ReportStatus
    result: str
    figure: str | None
    difficulties: str
    upload_ids: list[int] = field(default_factory=list)
    # evidence of an earlier version kept by «Báo cáo lại» (copied to the new version)
    evidence_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Saved:
    report_id: int
    receipt: str
    version: int
    round_code: str | None
    round_title: str | None
    files: int
    round_deadline: date | None = None
    late: bool = False  # filed after the round's deadline (local date): "nộp muộn"
    review: str = "accepted"  # core.review.ReviewStatus: "pending" when the plan reviews


class ReportStore(Protocol):
    def tasks_for(self, agency_id: int) -> list[TaskItem]: ...

    def task(self, agency_id: int, task_id: int) -> TaskItem | None:
        """The task if `agency_id` is assigned it (lead or coordinating), else None."""
        ...

    def keep_upload(self, ctx: ChatContext, instance: str, file: IncomingFile) -> UploadRef: ...

    def drop_uploads(self, instance: str) -> None: ...

    def save(self, draft: ReportDraft, now: datetime, instance: str) -> Saved: ...


StoreOf = Callable[[Any], ReportStore]  # ctx -> the store bound to this update's session
LABEL_CHARS = 60  # a button label; Telegram clients cut longer ones anyway


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def load_task(ctx: ChatContext, data: dict[str, Any], store: ReportStore, task_id: int) -> None:
    """Check the reporter may report on `task_id` and keep what later steps show about it."""
    agency_id = ctx.actor.agency_id if ctx.actor else None
    item = store.task(agency_id, task_id) if agency_id is not None else None
    refusal = may_report(ctx.actor, agency_id, item is not None)
    if refusal is not None or item is None:
        raise Invalid(say("chat/report_refused.j2", reason=refusal.reason if refusal else ""))
    target = primary_target(item.expected_output)
    data.update(
        task_id=item.task_id,
        ref=item.ref,
        title=item.title,
        expected_output=item.expected_output,
        due_date=item.due_date.isoformat() if item.due_date else None,
        schedule=item.schedule,
        latest_status=item.latest_status,
        latest_version=item.latest_version,
        target_kind=target.kind if target else None,
        target_phrase=target.phrase if target else None,
    )


DOCUMENT_CHOICE = "doc:"  # a task-step choice that sends a round's document instead


def build_report_flow(
    store_of: StoreOf, documents_of: Callable[[Any], DocumentStore] | None = None
) -> Flow:
    """The report flow, wired to a store factory (storage, or a fake in unit tests).

    With `documents_of`, the task list also offers the documents the agency still owes to open
    rounds that ask for one (`core.flows.round_document`); picking one hands over to that flow.
    """

    # The task step asks for both lists twice (its choices, then its question): read them once
    # per update (`ctx.cache`), not four queries for one prompt.
    def owed_documents(ctx: ChatContext) -> list[Any]:
        agency_id = ctx.actor.agency_id if ctx.actor else None
        if documents_of is None or agency_id is None:
            return []
        if "report.owed_documents" not in ctx.cache:
            owed = documents_of(ctx).owed(agency_id, ctx.now)
            ctx.cache["report.owed_documents"] = [r for r in owed if r.sent_receipt is None]
        found: list[Any] = ctx.cache["report.owed_documents"]
        return found

    def own_tasks(ctx: ChatContext) -> list[TaskItem]:
        agency_id = ctx.actor.agency_id if ctx.actor else None
        if agency_id is None:
            return []
        if "report.own_tasks" not in ctx.cache:
            ctx.cache["report.own_tasks"] = store_of(ctx).tasks_for(agency_id)
        tasks: list[TaskItem] = ctx.cache["report.own_tasks"]
        return tasks

    def task_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        items = own_tasks(ctx)
        documents = [
            Choice(
                f"{DOCUMENT_CHOICE}{r.round_id}",
                say("rounds/document_choice.j2", title=r.title),
            )
            for r in owed_documents(ctx)
        ]
        tasks = [Choice(str(t.task_id), _short(f"{t.ref} · {t.title}"), (t.ref,)) for t in items]
        return documents + tasks

    def ask_task(ctx: ChatContext, data: dict[str, Any]) -> Text:
        agency = ctx.actor.agency_name if ctx.actor else ""
        documents = [r.title for r in owed_documents(ctx)]
        return say(
            "chat/report_ask_task.j2",
            agency=agency,
            count=len(own_tasks(ctx)),
            documents=documents,
        )

    def chose_task(ctx: ChatContext, data: dict[str, Any]) -> None:
        if str(data["task"]).startswith(DOCUMENT_CHOICE):
            data["document_round"] = int(str(data["task"])[len(DOCUMENT_CHOICE) :])
            return
        data.pop("document_round", None)
        load_task(ctx, data, store_of(ctx), int(data["task"]))

    def after_task(data: dict[str, Any]) -> str:
        return FINISH if data.get("document_round") else "status"

    def status_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [Choice(s.value, say("chat/status_label.j2", status=s.value)) for s in STATUSES]

    def figure(ctx: ChatContext, data: dict[str, Any], answer: Any) -> str:
        return parse_figure(data["target_kind"], answer.text)

    def keep_file(ctx: ChatContext, data: dict[str, Any], answer: Any) -> dict[str, Any]:
        file: IncomingFile = answer.file
        check_file(file, ctx.limits)
        if len(data.get("files") or []) >= 10:
            raise Invalid(say("chat/report_too_many_files.j2", limit=10))
        ref = store_of(ctx).keep_upload(ctx, data["_instance"], file)
        same = next((f for f in data.get("files") or [] if f["upload_id"] == ref.upload_id), None)
        if same is not None:
            # the same bytes again: named as sent, not added twice (review and receipt agree)
            raise Invalid(
                say("chat/report_file_duplicate.j2", sent=file.file_name, same_as=same["name"])
            )
        return {"upload_id": ref.upload_id, "name": file.file_name[:255], "size": ref.size}

    def received(ctx: ChatContext, data: dict[str, Any]) -> Text:
        files = data.get("files") or []
        return say("chat/report_file_received.j2", file=files[-1], count=len(files))

    def ask_files(ctx: ChatContext, data: dict[str, Any]) -> Text:
        limits = ctx.limits
        return say(
            "chat/report_ask_files.j2",
            files=data.get("files") or [],
            types=list(limits.file_types),
            max_mb=limits.max_file_bytes / (1024 * 1024),
            by_link=not ctx.capabilities.inbound_files,
            upload_url=upload_link(ctx, data),
        )

    def summary(ctx: ChatContext, data: dict[str, Any]) -> Text:
        figure = data.get("figure")
        target = primary_target(data.get("expected_output") or "")
        reached = meets(target, figure) if target and figure else None
        return say(
            "chat/report_summary.j2",
            d=data,
            files=data.get("files") or [],
            reached=reached,
            # «Hoàn thành» with a figure below the target: asked to confirm, not refused
            disagree=data.get("status") == ReportStatus.DONE.value and reached is False,
        )

    def summary_choices(ctx: Any, data: dict[str, Any]) -> list[Choice]:
        choices = [
            Choice("send", say("chat/button_send.j2")),
            Choice("edit", say("chat/button_edit.j2")),
        ]
        if data.get("files"):
            choices.append(Choice("drop", say("chat/button_drop_file.j2")))
        return [*choices, Choice("cancel", say("chat/button_cancel.j2"))]

    def after_summary(data: dict[str, Any]) -> str:
        return {"send": FINISH, "edit": "edit", "drop": "drop", "cancel": CANCEL}[data["confirm"]]

    def drop_choices(ctx: Any, data: dict[str, Any]) -> list[Choice]:
        return [Choice(str(f["upload_id"]), _short(f["name"])) for f in data.get("files") or []]

    def dropped(ctx: Any, data: dict[str, Any]) -> None:
        data["files"] = [f for f in data.get("files") or [] if str(f["upload_id"]) != data["drop"]]

    def edit_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        fields = [f for f in EDITABLE if f != "figure" or data.get("target_kind")]
        return [Choice(f, say("chat/report_field_label.j2", field=f)) for f in fields]

    def after_edit(data: dict[str, Any]) -> str:
        data["_return"] = "summary"
        return str(data["edit"])

    def finish(ctx: ChatContext, data: dict[str, Any]) -> Any:
        if data.get("document_round") and documents_of is not None:
            try:  # hand over to the round's document flow
                start = start_data(ctx, documents_of(ctx), int(data["document_round"]))
            except Invalid as exc:
                return exc.reason
            return ctx.start_flow(DOCUMENT_FLOW, start)
        store = store_of(ctx)
        agency_id = ctx.actor.agency_id if ctx.actor else None
        assigned = agency_id is not None and store.task(agency_id, data["task_id"]) is not None
        refusal = may_report(ctx.actor, agency_id, assigned)
        if refusal is not None:
            ctx.audit("report_submit", f"task:{data['task_id']}", "refused", reason=refusal.reason)
            store.drop_uploads(data["_instance"])
            return say("chat/report_refused.j2", reason=refusal.reason)
        assert ctx.actor is not None and agency_id is not None  # may_report refuses otherwise
        draft = ReportDraft(
            agency_id=agency_id,
            task_id=data["task_id"],
            reporter_id=ctx.actor.contact_id,
            status=ReportStatus(data["status"]),
            result=data["result"],
            figure=data.get("figure"),
            difficulties=data.get("difficulties") or "",
            upload_ids=[f["upload_id"] for f in data.get("files") or [] if "evidence_id" not in f],
            evidence_ids=[f["evidence_id"] for f in data.get("files") or [] if "evidence_id" in f],
        )
        saved = store.save(draft, ctx.now, data["_instance"])
        ctx.audit(
            "report_submit",
            f"task:{data['ref']} agency:{ctx.actor.agency_code}",
            receipt=saved.receipt,
            version=saved.version,
            files=saved.files,
            review=saved.review,
        )
        return say("chat/report_saved.j2", saved=saved, d=data, at=ctx.now)

    def cancelled(ctx: ChatContext, data: dict[str, Any]) -> None:
        store_of(ctx).drop_uploads(data["_instance"])

    step_skip, no_figure = say("chat/button_skip.j2"), say("chat/button_no_figure.j2")
    return Flow(
        name=FLOW,
        steps=[
            Step(
                "task",
                ask_task,
                Expect.CHOICE,
                choices=task_choices,
                after=chose_task,
                next=after_task,
                page_size=8,
            ),
            Step(
                "status",
                lambda ctx, d: say("chat/report_ask_status.j2", d=d),
                Expect.CHOICE,
                choices=status_choices,
                columns=2,
            ),
            Step("result", lambda ctx, d: say("chat/report_ask_result.j2", d=d)),
            Step(
                "figure",
                lambda ctx, d: say("chat/report_ask_figure.j2", d=d),
                parse=figure,
                skip=no_figure,
                when=lambda d: bool(d.get("target_kind")),
            ),
            Step(
                "difficulties",
                lambda ctx, d: say("chat/report_ask_difficulties.j2"),
                skip=step_skip,
            ),
            Step(
                "files",
                ask_files,
                Expect.FILE,
                parse=keep_file,
                skip=step_skip,
                many=True,
                done=say("chat/button_done.j2"),
                received=received,
            ),
            Step(
                "summary",
                summary,
                Expect.CHOICE,
                key="confirm",
                choices=summary_choices,
                next=after_summary,
                columns=2,
            ),
            Step(
                "drop",
                lambda ctx, d: say("chat/report_ask_drop.j2", files=d.get("files") or []),
                Expect.CHOICE,
                choices=drop_choices,
                after=dropped,
                next="summary",
                when=lambda d: False,  # reached only from the summary's "Bỏ tệp"
            ),
            Step(
                "edit",
                lambda ctx, d: say("chat/report_ask_edit.j2"),
                Expect.CHOICE,
                choices=edit_choices,
                next=after_edit,
                when=lambda d: False,  # reached only from the summary's "Sửa"
            ),
        ],
        finish=finish,
        on_cancel=cancelled,
    )
