"""What people are told about extension requests, written to the outbox with their cause.

`ExtensionService` is the `core.extensions.ExtensionStore` the chat uses: the storage port
(`storage.extensions.SqlExtensionStore`) plus, in the same transaction, the messages a request
or a decision causes — the coordinators hear of a new request, the focal point hears the
decision (with the reason of a refusal) — and, on approval, the dashboard's stored evaluation
of the pair. A review queue (`/duyet`) can list and decide with the same object.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from core.extensions import (
    Decision,
    ExtensionDraft,
    ExtensionRequestInfo,
    ExtensionStatus,
    ExtensionTask,
)
from core.model import UserRole
from core.outgoing import Button, Outgoing
from messages.render import render
from storage.chat.buttons import issue_button
from storage.deputies import recipients_by_agency
from storage.extensions import SqlExtensionStore
from storage.outbox import OutboxItem, enqueue_many
from storage.reports.evaluation_store import refresh_after_report
from storage.tables.shared import Contact

QUEUE_ACTION = "extension_queue"  # a coordinator's button: open /giahan


class ExtensionService:
    def __init__(self, session: Session, tz: ZoneInfo) -> None:
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
