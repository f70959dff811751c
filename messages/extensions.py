"""What people are told about extension requests, written to the outbox with their cause.

`ExtensionService` is the `core.extensions.ExtensionStore` the chat uses: the storage port
(`storage.extensions.SqlExtensionStore`) plus, in the same transaction, the messages a request
or a decision causes — the coordinators hear of a new request, the focal point hears the
decision (with the reason of a refusal) — and, on approval, the dashboard's stored evaluation
of the pair. `ExtensionDecisions` is the `/duyet` kind that lists and decides with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from sqlalchemy import select
from sqlmodel import Session

from core.auth import Refusal
from core.commands import Actor
from core.conversation import Text, say
from core.extensions import (
    Decision,
    ExtensionDraft,
    ExtensionRefused,
    ExtensionRequestInfo,
    ExtensionStatus,
    ExtensionTask,
)
from core.extensions import decide as decide_extension
from core.model import UserRole
from core.outgoing import Button, Outgoing
from core.review import Action, Decided, DecisionRefused, QueueItem
from messages.render import render
from storage.chat.buttons import issue_button
from storage.deputies import recipients_by_agency
from storage.extensions import SqlExtensionStore
from storage.outbox import OutboxItem, enqueue_many
from storage.reports.evaluation_store import refresh_after_report
from storage.tables.shared import Contact

QUEUE_ACTION = "extension_queue"  # a coordinator's button: open /giahan


class ExtensionService:
    def __init__(self, session: Session, tz: tzinfo) -> None:
        self.session, self.tz = session, tz
        self.store = SqlExtensionStore(session)

    def tasks_for(self, agency_id: int, today: date) -> list[ExtensionTask]:
        return self.store.tasks_for(agency_id, today)

    def task(self, agency_id: int, task_id: int, today: date) -> ExtensionTask | None:
        return self.store.task(agency_id, task_id, today)

    def next_pending(self, skipped: list[int]) -> ExtensionRequestInfo | None:
        return self.store.next_pending(skipped)

    def pending(self, limit: int = 50) -> list[ExtensionRequestInfo]:
        return self.store.pending(limit)

    def pending_count(self) -> int:
        return self.store.pending_count()

    def request(self, draft: ExtensionDraft, now: datetime) -> ExtensionRequestInfo:
        info = self.store.request(draft, now)
        coordinators = self.session.execute(
            select(Contact).where(
                Contact.role == UserRole.COORDINATOR.value, Contact.active.is_(True)
            )
        ).scalars()
        items = []
        for contact in coordinators:
            token = issue_button(self.session, contact.id, QUEUE_ACTION, {}, now=now)
            items.append(
                OutboxItem(
                    key=f"extension:{info.id}:asked:c{contact.id}",
                    channel=contact.channel,
                    chat_id=contact.chat_id,
                    contact_id=contact.id,
                    kind="extension",
                    message=Outgoing(
                        render("extensions/notice_coordinator.j2", r=info),
                        buttons=[[Button(render("extensions/button_queue.j2"), token)]],
                    ),
                )
            )
        if items:
            enqueue_many(self.session, items, now)
        return info

    def decide(
        self, request_id: int, decision: Decision, decider_id: int, refusal: str, now: datetime
    ) -> ExtensionRequestInfo:
        info = self.store.decide(request_id, decision, decider_id, refusal, now)
        asker = self.store.requester(request_id)
        told = [asker] if asker is not None and asker.active else []
        if not told:  # the asker left or blocked the bot: whoever receives the agency's reminders
            today = now.astimezone(self.tz).date()
            told = recipients_by_agency(self.session, [info.agency_id], today).get(
                info.agency_id, []
            )
        text = render("extensions/notice_decision.j2", r=info)
        items = [
            OutboxItem(
                key=f"extension:{info.id}:decided"
                + ("" if contact is asker else f":c{contact.id}"),
                channel=contact.channel,
                chat_id=contact.chat_id,
                contact_id=contact.id,
                kind="extension",
                message=Outgoing(text),
            )
            for contact in told
        ]
        if items:
            enqueue_many(self.session, items, now)
        if info.status is ExtensionStatus.APPROVED:
            refresh_after_report(self.session, info.task_id, info.agency_id, self.tz, now)
        return info


EXTENSION = "extension"  # the `/duyet` kind


class ExtensionDecisions:
    """`core.review.QueueKind`: extension requests waiting for a decision, in `/duyet`.

    Deciding goes through `core.extensions.decide` and `ExtensionService.decide`, the very
    calls of `/giahan`: approval moves the deadline (the reminder ladder and every evaluation
    read it), refreshes the stored evaluation and tells the focal point; refusal tells the
    reason. Only the queue's wording differs.
    """

    name = EXTENSION

    def __init__(self, session: Session, tz: tzinfo) -> None:
        self.service = ExtensionService(session, tz)

    def waiting(self, limit: int) -> list[QueueItem]:
        return [
            QueueItem(EXTENSION, str(r.id), r.requested_at) for r in self.service.pending(limit)
        ]

    def _pending(self, key: str) -> ExtensionRequestInfo | None:
        try:
            info = self.service.store.get(int(key))
        except ValueError:
            return None
        return info if info is not None and info.status is ExtensionStatus.PENDING else None

    def show(self, key: str) -> Text | None:
        info = self._pending(key)
        return say("extensions/review_item.j2", r=info) if info is not None else None

    def actions(self, key: str) -> Sequence[Action]:
        if self._pending(key) is None:
            return []
        return [
            Action(
                Decision.APPROVE.value, say("extensions/button_decision.j2", decision="approve")
            ),
            Action(
                "reject",
                say("extensions/button_decision.j2", decision="reject"),
                say("extensions/ask_refusal.j2"),
            ),
        ]

    def decide(self, actor: Actor, key: str, action: str, text: str, now: datetime) -> Decided:
        info = self._pending(key)
        if info is None:
            raise DecisionRefused("already_decided")
        try:
            outcome = decide_extension(self.service, actor, info.id, Decision(action), text, now)
        except ExtensionRefused as exc:
            raise DecisionRefused("already_decided") from exc
        if isinstance(outcome, Refusal):
            raise DecisionRefused(outcome.reason)
        said = say(  # plain values: the flow keeps it in its (JSON) state for the next item
            "extensions/decided.j2",
            status=outcome.status.value,
            agency=outcome.agency_name,
            ref=outcome.ref,
            new_date=outcome.new_date.isoformat(),
        )
        return Decided(
            action,
            f"extension:{outcome.id} task:{outcome.ref} agency:{outcome.agency_id}",
            said,
        )
