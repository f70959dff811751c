"""Sending a round's document: file → number → date of issue → note → send. No task to pick.

For rounds that ask each agency for a document of its own (`core.round_documents`), e.g. the
improvement plans six departments send Sở Nội vụ before 05/7/2024. Started from the round's
reminder («Gửi văn bản») or from /baocao's list, always for one round; the same steps on
every channel (on channels that carry no files — Zalo's Bot Platform — the file step offers a
signed upload link itself, like the report's evidence step; /web gives the same link).
The file passes the evidence checks (`core.conversation.check_file`: type by its first
bytes, size, name), limited to the document types a round accepts. The right to send is
checked when the flow starts and again when the document is saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Protocol

from core.auth import may_report
from core.commands import ChatContext
from core.conversation import (
    Expect,
    Flow,
    IncomingFile,
    Invalid,
    Limits,
    Step,
    Text,
    check_file,
    parse_date,
    say,
)
from core.flows.choices import after_confirm, confirm_choices
from core.flows.upload_link import upload_link
from core.round_documents import DOCUMENT_TYPES
from core.text import clean

FLOW = "round_document"
MAX_NUMBER_CHARS = 80
MAX_NOTE_CHARS = 1000
EARLIEST_ISSUE = date(2000, 1, 1)
_NUMBER = re.compile(r"\d")


@dataclass(frozen=True)
class OwedRound:
    """A document round an agency is asked for (and whether it has sent one already)."""

    round_id: int
    code: str
    title: str
    ask: str
    deadline: date  # the current period's deadline
    sent_receipt: str | None = None  # the latest version sent for this period, if any


@dataclass(frozen=True)
class DocumentUpload:
    upload_id: int
    file_name: str
    size: int


@dataclass(frozen=True)
class DocumentDraft:
    round_id: int
    agency_id: int
    reporter_id: int
    number: str
    issued_on: date
    note: str
    upload_id: int


@dataclass(frozen=True)
class DocumentSaved:
    receipt: str
    version: int
    round_title: str
    deadline: date
    late: bool
    file_name: str


class DocumentRefused(Exception):
    """Storage cannot take the document (the round closed meanwhile…); reason is a template
    name suffix for `rounds/document_refused.j2`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DocumentStore(Protocol):
    def owed(self, agency_id: int, now: datetime) -> list[OwedRound]:
        """Open document rounds whose audience holds `agency_id` (sent or not), by deadline."""
        ...

    def keep_upload(
        self, ctx: ChatContext, instance: str, file: IncomingFile
    ) -> DocumentUpload: ...

    def drop_uploads(self, instance: str) -> None: ...

    def save(self, draft: DocumentDraft, now: datetime, instance: str) -> DocumentSaved: ...


StoreOf = Callable[[Any], DocumentStore]


def owed_round(ctx: ChatContext, store: DocumentStore, round_id: int) -> OwedRound | None:
    agency_id = ctx.actor.agency_id if ctx.actor else None
    if agency_id is None:
        return None
    return next((r for r in store.owed(agency_id, ctx.now) if r.round_id == round_id), None)


def start_data(ctx: ChatContext, store: DocumentStore, round_id: int) -> dict[str, Any]:
    """What the flow needs about the round, or Invalid (refusal) when this user may not send."""
    found = owed_round(ctx, store, round_id)
    agency_id = ctx.actor.agency_id if ctx.actor else None
    refusal = may_report(ctx.actor, agency_id, found is not None)
    if refusal is not None or found is None:
        raise Invalid(say("rounds/document_refused.j2", reason=refusal.reason if refusal else ""))
    return {
        "round_id": found.round_id,
        "ref": found.code,  # the upload page shows ref and title (bot.web.uploads)
        "title": found.title,
        "ask": found.ask,
        "deadline": found.deadline.isoformat(),
        "sent_receipt": found.sent_receipt,
    }


def document_limits(limits: Limits) -> Limits:
    """The evidence limits, narrowed to the types a document may be."""
    types = tuple(t for t in limits.file_types if t in DOCUMENT_TYPES) or DOCUMENT_TYPES
    return replace(limits, file_types=types)


def build_round_document_flow(store_of: StoreOf) -> Flow:
    def ask_file(ctx: ChatContext, data: dict[str, Any]) -> Text:
        limits = document_limits(ctx.limits)
        return say(
            "rounds/document_ask_file.j2",
            d=data,
            types=list(limits.file_types),
            max_mb=limits.max_file_bytes / (1024 * 1024),
            by_link=not ctx.capabilities.inbound_files,
            upload_url=upload_link(ctx, data, task_id=0),
        )

    def keep_file(ctx: ChatContext, data: dict[str, Any], answer: Any) -> dict[str, Any]:
        file: IncomingFile = answer.file
        check_file(file, document_limits(ctx.limits))
        ref = store_of(ctx).keep_upload(ctx, data["_instance"], file)
        return {"upload_id": ref.upload_id, "name": ref.file_name, "size": ref.size}

    def number(ctx: ChatContext, data: dict[str, Any], answer: Any) -> str:
        typed = clean(answer.text).strip()
        if len(typed) > MAX_NUMBER_CHARS or not _NUMBER.search(typed):
            raise Invalid(say("rounds/document_bad_number.j2", typed=typed[:40]))
        return typed

    def issued(ctx: ChatContext, data: dict[str, Any], answer: Any) -> str:
        typed = clean(answer.text).strip()
        day = parse_date(typed)
        if day is None:
            raise Invalid(say("rounds/document_bad_date.j2", typed=typed[:40], why="form"))
        today = ctx.now.astimezone(ctx.config.timezone).date()
        if day > today:
            raise Invalid(say("rounds/document_bad_date.j2", typed=typed[:40], why="future"))
        if day < EARLIEST_ISSUE:
            raise Invalid(say("rounds/document_bad_date.j2", typed=typed[:40], why="old"))
        return day.isoformat()

    def note(ctx: ChatContext, data: dict[str, Any], answer: Any) -> str:
        text = clean(answer.text).strip()
        if len(text) > MAX_NOTE_CHARS:
            raise Invalid(say("chat/invalid_too_long.j2", length=len(text), limit=MAX_NOTE_CHARS))
        return text

    def finish(ctx: ChatContext, data: dict[str, Any]) -> Any:
        store = store_of(ctx)
        round_id = int(data["round_id"])
        agency_id = ctx.actor.agency_id if ctx.actor else None
        found = owed_round(ctx, store, round_id)
        refusal = may_report(ctx.actor, agency_id, True)  # the link may have changed meanwhile
        target = f"round:{data.get('ref')} agency:{ctx.actor.agency_code if ctx.actor else ''}"
        if refusal is not None or found is None:
            reason = refusal.reason if refusal else "round_gone"  # closed, or no longer asked
            ctx.audit("round_document_submit", target, "refused", reason=reason)
            store.drop_uploads(data["_instance"])
            return say("rounds/document_refused.j2", reason=reason)
        assert ctx.actor is not None and agency_id is not None
        draft = DocumentDraft(
            round_id=round_id,
            agency_id=agency_id,
            reporter_id=ctx.actor.contact_id,
            number=data["number"],
            issued_on=date.fromisoformat(data["issued_on"]),
            note=data.get("note") or "",
            upload_id=int(data["files"]["upload_id"]),
        )
        try:
            saved = store.save(draft, ctx.now, data["_instance"])
        except DocumentRefused as exc:
            ctx.audit("round_document_submit", target, "refused", reason=exc.reason)
            return say("rounds/document_refused.j2", reason=exc.reason)
        ctx.audit(
            "round_document_submit",
            target,
            receipt=saved.receipt,
            version=saved.version,
            number=draft.number,
        )
        return say("rounds/document_saved.j2", saved=saved, d=data, at=ctx.now)

    def cancelled(ctx: ChatContext, data: dict[str, Any]) -> None:
        store_of(ctx).drop_uploads(data["_instance"])

    return Flow(
        name=FLOW,
        steps=[
            # named "files" like the report's evidence step: /web's upload link answers it
            Step("files", ask_file, Expect.FILE, parse=keep_file),
            Step("number", lambda ctx, d: say("rounds/document_ask_number.j2", d=d), parse=number),
            Step(
                "issued_on",
                lambda ctx, d: say("rounds/document_ask_date.j2", d=d),
                parse=issued,
            ),
            Step(
                "note",
                lambda ctx, d: say("rounds/document_ask_note.j2", d=d),
                parse=note,
                skip=say("chat/button_skip.j2"),
            ),
            Step(
                "confirm",
                lambda ctx, d: say("rounds/document_summary.j2", d=d),
                Expect.CHOICE,
                choices=confirm_choices,
                next=after_confirm,
                columns=2,
            ),
        ],
        finish=finish,
        on_cancel=cancelled,
    )
