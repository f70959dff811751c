"""The `/duyet` kind for rounds that ask for a document: Đạt / Trả lại (with a reason).

A decision is one transaction (the update's): the submission's status through
`storage.chat.round_documents.set_submission_status` (conditional: decided once), and a
message to the agency's focal point through the outbox — on a return, the reason and «Gửi lại
văn bản», the reminder's own `round_document` button, which opens the document flow for that
round again. A returned document counts as not sent in the round's report
(`core.round_documents.document_rows`) and the round asks the agency again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path

from sqlmodel import Session

from core.commands import Actor
from core.conversation import Text, say
from core.outgoing import Document, Outgoing
from core.review import Action, Decided, DecisionRefused, QueueItem
from core.round_documents import DocumentStatus
from messages.focal_notice import SendAgain, tell_focal_point
from messages.render import render
from storage.chat.round_documents import set_submission_status
from storage.review.documents import SubmissionView, load_submission, waiting_submissions
from storage.tables.round_documents import RoundSubmission

DOCUMENT = "document"
SEND_AGAIN = "round_document"  # bot/features/round_documents.py: the document flow


def safe_name(name: str) -> str:
    """A file name as sent, made safe to write on disk (no folders, no control characters)."""
    cleaned = re.sub(r"[\x00-\x1f/\\]+", "_", name).strip(". ")
    return cleaned[:200] or "van-ban"


class DocumentReviews:
    """`core.review.QueueKind`: round documents sent and not yet reviewed."""

    name = DOCUMENT

    def __init__(self, session: Session, tz: tzinfo, data_dir: Path | None = None) -> None:
        self.session, self.tz, self.data_dir = session, tz, data_dir

    def waiting(self, limit: int) -> list[QueueItem]:
        return [
            QueueItem(DOCUMENT, str(i), at) for i, at in waiting_submissions(self.session, limit)
        ]

    def pending(self, key: str) -> SubmissionView | None:
        """The submission `key` names while it waits for Đạt / Trả lại (the dashboard lists
        what this says, so page and queue agree)."""
        try:
            found = load_submission(self.session, int(key))
        except ValueError:
            return None
        if found is None or not found.is_latest:
            return None
        return found if found.status == DocumentStatus.SUBMITTED.value else None

    def show(self, key: str) -> Text | None:
        found = self.pending(key)
        if found is None:
            return None
        late = found.submitted_at.astimezone(self.tz).date() > found.period_deadline
        return say("review/document_item.j2", s=found, late=late)

    def attachments(self, key: str) -> list[Outgoing]:
        """The document itself («Xem tài liệu»), sent as a file (a link on text channels).

        Asked each time the item is shown (whether to offer the button), so the bytes are
        written once per submission, under `<data dir>/reports/` where a compiled report's
        files go (folders older than a day are swept there). None without a data dir."""
        found = self.pending(key)
        if found is None or self.data_dir is None:
            return []
        folder = self.data_dir / "reports" / f"document-{found.id}"
        path = folder / safe_name(found.file_name)
        if not path.exists():
            row = self.session.get(RoundSubmission, found.id)
            if row is None:
                return []
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bytes(row.content))
        document = Document(found.file_name, path=str(path), mime_type=found.mime_type)
        return [Outgoing(render("review/document_caption.j2", s=found), document=document)]

    def actions(self, key: str) -> Sequence[Action]:
        found = self.pending(key)
        if found is None:
            return []
        return [
            Action("accept", say("review/button_accept.j2")),
            Action(
                "return",
                say("review/button_return.j2"),
                say("review/document_ask_reason.j2", s=found),
            ),
        ]

    def decide(self, actor: Actor, key: str, action: str, text: str, now: datetime) -> Decided:
        found = self.pending(key)
        if found is None:
            raise DecisionRefused("already_decided")
        status = DocumentStatus.ACCEPTED if action == "accept" else DocumentStatus.RETURNED
        changed = set_submission_status(
            self.session,
            found.id,
            status,
            actor.contact_id,
            now,
            text if status is DocumentStatus.RETURNED else "",
            expect=DocumentStatus.SUBMITTED,
        )
        if changed is None:
            raise DecisionRefused("already_decided")
        told = load_submission(self.session, found.id)
        assert told is not None
        self._tell(told, status, now)
        said = say(  # plain values: the flow keeps it in its (JSON) state for the next item
            "review/document_decided.j2",
            action=action,
            receipt=told.receipt,
            agency=told.agency_name,
            number=told.number,
        )
        return Decided(action, f"document:{told.receipt}", said)

    def _tell(self, sent: SubmissionView, status: DocumentStatus, now: datetime) -> int:
        """The decision to the focal point who sent it (or the agency's focal points); on a
        return, «Gửi lại văn bản» opens the document flow of that round again."""
        again = SendAgain(
            render("review/document_button_again.j2"),
            SEND_AGAIN,
            {"round_id": sent.round_id, "agency_id": sent.agency_id},
        )
        return tell_focal_point(
            self.session, sent.agency_id, sent.reporter_id,
            key=f"document_review:{sent.id}:{status.value}", kind=f"document_{status.value}",
            text=render(f"review/document_told_{status.value}.j2", s=sent), now=now,
            again=again if status is DocumentStatus.RETURNED else None,
        )  # fmt: skip
