"""Broadcast progress: one message edited as sending proceeds, then the final tally.

On a channel without message edits (Zalo's Bot Platform, the console) there is no live
progress message at all — a stream of "sent 40/300" messages would bury the chat — and the
final tally, which every channel gets, says how it went.

A listener of the delivery worker: after each broadcast row reaches a final state it counts
the group, edits the coordinator's progress message at most every few seconds (edits count
against Telegram's limits too, so they go through the same pacer), and when nothing is left
writes the tally — failures by reason — to the outbox and closes the broadcast in the audit log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.broadcast import ProgressPolicy, Tally
from core.channel import Channel
from core.clock import Clock
from core.outgoing import Outgoing
from messages.render import render
from scheduler.delivery import DeliveryWorker, Relevance
from storage import outbox as outbox_repo
from storage.db import transaction
from storage.outbox import OutboxItem
from storage.scheduling.broadcast import (
    MESSAGE_KIND,
    PROGRESS_KIND,
    TALLY_KIND,
    progress_message_id,
    tally,
)
from storage.tables.scheduling import Broadcast
from storage.tables.shared import AuditLog, Outbox

log = logging.getLogger(__name__)


def progress_text(t: Tally) -> str:
    return render("broadcast/progress.j2", tally=t)


def progress_relevance(channels: Mapping[str, Channel]) -> Relevance:
    """Outbox relevance for progress messages: none where the channel cannot edit them."""

    def check(session: Session, row: Outbox, day: date) -> str | None:
        channel = channels.get(row.channel)
        if channel is not None and not channel.capabilities.edits:
            return "no_edits: the tally follows instead"
        return None

    return check


class BroadcastProgress:
    """Attach with `worker.listeners.append(BroadcastProgress(...))`."""

    def __init__(
        self,
        engine: Engine,
        worker: DeliveryWorker,
        clock: Clock,
        policy: ProgressPolicy | None = None,
    ) -> None:
        self.engine, self.worker, self.clock = engine, worker, clock
        self.policy = policy or ProgressPolicy()

    async def __call__(self, row: Outbox) -> None:
        if row.kind not in (MESSAGE_KIND, PROGRESS_KIND) or not row.group_key:
            return
        broadcast_id = int(row.group_key.split(":", 1)[1])
        await self.update(broadcast_id)

    async def update(self, broadcast_id: int) -> Tally | None:
        step = await self.worker.db(self._count, broadcast_id, self.clock.now())
        if step is None:
            return None
        current, finished_now, edit, message_id, channel_name, chat_id = step
        if finished_now:
            self.worker.wake()  # the tally is in the outbox
        channel = self.worker.channels.get(channel_name or "")
        if edit and channel is not None and channel.capabilities.edits and chat_id and message_id:
            try:
                async with self.worker.pacers[channel.name].turn(chat_id):
                    await channel.edit(chat_id, message_id, Outgoing(text=progress_text(current)))
            except Exception as exc:  # a lost progress edit is cosmetic; the tally follows
                log.warning("broadcast %s progress edit failed: %s", broadcast_id, exc)
        return current

    def _count(
        self, broadcast_id: int, now: datetime
    ) -> tuple[Tally, bool, bool, str | None, str | None, str | None] | None:
        """The tally now, closing the broadcast when it is complete; whether to edit the
        progress message (one transaction, run off the event loop on a server database)."""
        with transaction(self.engine) as session:
            broadcast = session.get(Broadcast, broadcast_id)
            if broadcast is None:
                return None
            current = tally(session, broadcast)
            finished_now = current.finished and broadcast.status != "done"
            if finished_now:
                self._finish(session, broadcast, current)
            message_id = progress_message_id(session, broadcast)
            edit = message_id is not None and self.policy.should_edit(
                broadcast.progress_shown, current.done, current.total, broadcast.progress_at, now
            )
            if edit:
                broadcast.progress_shown, broadcast.progress_at = current.done, now
                session.add(broadcast)
            channel_name, chat_id = broadcast.progress_channel, broadcast.progress_chat_id
        return current, finished_now, edit, message_id, channel_name, chat_id

    def _finish(self, session: Session, broadcast: Broadcast, current: Tally) -> None:
        now = self.clock.now()
        broadcast.status, broadcast.finished_at = "done", now
        session.add(broadcast)
        key = f"broadcast:{broadcast.id}"
        if broadcast.progress_chat_id and broadcast.progress_channel:
            outbox_repo.enqueue(
                session,
                OutboxItem(
                    key=f"{key}:tally",
                    channel=broadcast.progress_channel,
                    chat_id=broadcast.progress_chat_id,
                    contact_id=broadcast.created_by,
                    message=Outgoing(text=render("broadcast/tally.j2", tally=current)),
                    kind=TALLY_KIND,
                    group_key=key,
                ),
                now,
            )
        session.add(
            AuditLog(
                at=now,
                actor=broadcast.actor,
                contact_id=broadcast.created_by,
                action="broadcast_done",
                target=key,
                outcome="ok" if not current.failed else "error",
                detail=json.dumps(
                    {"total": current.total, "sent": current.sent, "failed": current.failed}
                ),
            )
        )
