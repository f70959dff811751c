"""The delivery worker: sends the outbox within platform limits and records every result.

Exactly-once, and where it cannot be had. Telegram's sendMessage has no idempotency key: after
a request has left, a crash or a read timeout leaves us not knowing whether the message was
delivered, and nothing in the Bot API can tell us afterwards (a bot cannot read its own chat
history). We therefore choose *at most once* for that one gap and make the gap as small as we
can:

* a row is claimed (`sending`, committed) only after the rate limiters let it through, right
  before the HTTP call, and marked `sent` right after it — so a crash can catch at most the few
  rows whose request was in flight;
* on start-up, rows still `sending` are marked failed "uncertain", never sent again, and are
  listed by `parbot outbox status` for a person to check (`parbot outbox retry` resends);
* errors that prove the message did *not* arrive (429, 5xx answers, connection refused,
  connect/pool timeouts) are retried; errors after the request may have arrived (read timeout,
  connection dropped mid-answer) are recorded as uncertain, not repeated. Which is which is
  the adapter's to say: it raises `core.channel.MaybeDelivered` for the second kind.

Each (channel, chat) is a lane handled in order, so split parts and follow-ups arrive in order;
lanes run concurrently, paced by `scheduler.pacing.Pacer`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.calendar import SendWindow, WorkCalendar
from core.channel import (
    Blocked,
    ButtonStyle,
    Channel,
    ChannelLimits,
    ChatMigrated,
    ChatNotFound,
    DeliveryError,
    MaybeDelivered,
    PermanentError,
    RetryAfter,
    TransientError,
)
from core.clock import Clock
from core.files import FileLinks, NoFileLinks
from core.model import UserRole
from core.outgoing import Outgoing
from core.text_parts import split_text
from messages.channel_text import fit_to_channel, numbered
from messages.render import render
from scheduler.pacing import Pacer
from scheduler.written_signal import REQUEST_WRITTEN
from storage import outbox as outbox_repo
from storage.chat.choices import offer_choices_now
from storage.outbox import Candidate, OutboxItem
from storage.tables.shared import Agency, Contact, Outbox

log = logging.getLogger(__name__)

#: Kinds that wait for office hours on working days; replies to a user never wait.
#: ("flow_expired" is the chat's notice that an idle guided flow was dropped.)
SCHEDULED_KINDS = frozenset(
    {"reminder", "escalation", "checkin", "digest", "broadcast", "notice", "flow_expired"}
)

# A check of relevance, right before sending: None to send, or why the row no longer matters.
Relevance = Callable[[Session, Outbox, date], str | None]
# Called after each row reaches a final state (sent, failed, cancelled).
Listener = Callable[[Outbox], Awaitable[None]]


@dataclass
class DeliveryConfig:
    window: SendWindow = field(default_factory=SendWindow)
    scheduled_kinds: frozenset[str] = SCHEDULED_KINDS
    max_attempts: int = 6
    backoff_base: float = 2.0  # seconds; doubled each attempt, ±20 % jitter
    backoff_max: float = 600.0
    concurrency: int = 8  # lanes in flight (Telegram's ~0.1 s round trip × 30/s, doubled)
    batch: int = 500  # rows read per pass
    idle_poll: float = 1.0  # seconds between passes when nothing is due
    per_second: float | None = None  # overall rate instead of the channel's (PARBOT_SEND_RATE)


@dataclass
class PassResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    cancelled: int = 0

    def add(self, other: PassResult) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.retried += other.retried
        self.cancelled += other.cancelled

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.retried + self.cancelled


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, Channel],
        clock: Clock,
        calendar: Callable[[], WorkCalendar],
        config: DeliveryConfig | None = None,
        relevance: Mapping[str, Relevance] | None = None,
        files: FileLinks | None = None,
    ) -> None:
        self.engine = engine
        self.files: FileLinks = files or NoFileLinks()
        self.channels = dict(channels)
        self.clock = clock
        self.calendar = calendar
        self.config = config or DeliveryConfig()
        self.relevance = dict(relevance or {})
        self.listeners: list[Listener] = []
        # Each channel paced by its own limits and its own notion of a group chat.
        self.pacers = {
            name: Pacer(self._limits(ch), is_group=ch.is_group)
            for name, ch in self.channels.items()
        }
        self._gates = {name: asyncio.Lock() for name in self.channels}
        self._wake = asyncio.Event()

    def _limits(self, channel: Channel) -> ChannelLimits:
        """The channel's limits; PARBOT_SEND_RATE may only lower its overall rate."""
        if self.config.per_second is None:
            return channel.limits
        per_second = min(channel.limits.per_second, self.config.per_second)
        return replace(channel.limits, per_second=per_second)

    # ------------------------------------------------------------------ running
    def recover(self) -> int:
        """At start-up: rows a crashed worker left `sending` become failed "uncertain"."""
        count = outbox_repo.recover_interrupted(self.engine, self.clock.now())
        if count:
            log.warning("outbox rows interrupted mid-send marked uncertain: %d", count)
        return count

    def wake(self) -> None:
        """Producers may call this after enqueueing so the worker does not wait for its poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; recovers interrupted rows first."""
        self.recover()
        while not stop.is_set():
            try:
                result = await self.run_once()
            except Exception:  # a bad pass must not kill the worker; the next one retries
                log.exception("delivery pass failed")
                result = PassResult()
            if result.handled:
                continue
            self._wake.clear()
            waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
            _, pending = await asyncio.wait(
                waiters, timeout=self.config.idle_poll, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()

    async def run_once(self) -> PassResult:
        """One pass: every row due now (up to `batch`), lanes in parallel."""
        now = self.clock.now()
        skip: frozenset[str] = frozenset()
        if not self.config.window.is_open(now, self.calendar()):
            skip = self.config.scheduled_kinds
        with Session(self.engine) as session:
            rows = outbox_repo.candidates(
                session, now, self.config.batch, skip_kinds=skip, channels=self.channels.keys()
            )
        lanes: dict[tuple[str, str], list[Candidate]] = {}
        for row in rows:
            lanes.setdefault((row.channel, row.chat_id), []).append(row)
        total = PassResult()
        gate = asyncio.Semaphore(self.config.concurrency)

        async def lane(items: list[Candidate]) -> None:
            async with gate:
                for item in items:
                    outcome = await self._deliver(item)
                    total.add(outcome)
                    if outcome.retried:
                        break  # keep the lane's order: the rest waits for the retry

        await asyncio.gather(*(lane(items) for items in self.lane_order(list(lanes.values()))))
        return total

    def lane_order(self, lanes: list[list[Candidate]]) -> list[list[Candidate]]:
        """The order lanes start in: as read (scheduler/service.py's shared worker shuffles,
        so that workers reading the same rows do not queue at the pacer for the same ones)."""
        return lanes

    # ------------------------------------------------------------------ one row
    async def _deliver(self, item: Candidate) -> PassResult:
        channel = self.channels[item.channel]
        pacer = self.pacers[item.channel]
        now = self.clock.now()
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.get(Outbox, item.id)
            if row is None or row.status != outbox_repo.PENDING:
                return PassResult()
            reason = self._irrelevant(session, row, now)
        if reason:
            if outbox_repo.cancel_pending(self.engine, item.id, reason):
                await self._notify(row, outbox_repo.CANCELLED)
                return PassResult(cancelled=1)
            return PassResult()
        slot = await pacer.acquire(item.chat_id)
        sending = await self._claim_and_start(item, row, channel)
        pacer.written(slot)
        if sending is None:
            return PassResult()
        try:
            message_id = await sending
        except ChatMigrated as exc:
            self._migrate(row, exc.new_chat_id)
            try:
                message_id = await self._send_parts(channel, row)
            except DeliveryError as again:
                return await self._failure(row, again, pacer)
        except DeliveryError as exc:
            return await self._failure(row, exc, pacer)
        except Exception as exc:  # an adapter bug: record it, never loop on it
            log.exception("unexpected error sending outbox row %s", row.id)
            outbox_repo.mark_failed(
                self.engine,
                row.id,
                f"error: {type(exc).__name__}",
                self.clock.now(),
            )
            await self._notify(row, outbox_repo.FAILED)
            return PassResult(failed=1)
        outbox_repo.mark_sent(self.engine, row.id, message_id, self.clock.now())
        row.status, row.message_id = outbox_repo.SENT, message_id
        self._offer_numbered(channel, row)
        await self._notify(row, outbox_repo.SENT)
        return PassResult(sent=1)

    async def _claim_and_start(
        self, item: Candidate, row: Outbox, channel: Channel
    ) -> asyncio.Future[str | None] | None:
        """Claim the row and start its send; return once the request is on the wire.

        Between the claim's commit and the request's bytes leaving lies the only moment a crash
        makes a delivery uncertain, so one row at a time per channel is in that stretch (see
        scheduler/written_signal.py); the HTTP round trips themselves still overlap.
        """
        async with self._gates[item.channel]:
            if not outbox_repo.claim(self.engine, item.id, self.clock.now()):
                return None
            row.status, row.attempts = outbox_repo.SENDING, row.attempts + 1
            written = asyncio.Event()
            token = REQUEST_WRITTEN.set(written)
            try:
                sending = asyncio.ensure_future(self._send_parts(channel, row))
            finally:
                REQUEST_WRITTEN.reset(token)
            waiter = asyncio.ensure_future(written.wait())
            await asyncio.wait({sending, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        return sending

    def _irrelevant(self, session: Session, row: Outbox, now: datetime) -> str | None:
        check = self.relevance.get(row.kind)
        if check is None:
            return None
        return check(session, row, self.config.window.local_day(now))

    def _message(self, channel: Channel, row: Outbox) -> Outgoing:
        """The row's message as this channel can carry it (files as links where needed)."""
        message = outbox_repo.payload(row)
        return fit_to_channel(message, channel.capabilities, self.files, row.contact_id)

    def _offer_numbered(self, channel: Channel, row: Outbox) -> None:
        """On a channel of numbered choices, a delivered message with buttons is the latest
        list a typed number picks from (a reminder's «Báo cáo ngay» is then `1`)."""
        if channel.capabilities.buttons is not ButtonStyle.NUMBERED:
            return
        message = outbox_repo.payload(row)
        if message.buttons:
            data = [b.data for b in numbered(message.buttons)]
            offer_choices_now(self.engine, row.channel, row.chat_id, data, self.clock.now())

    async def _send_parts(self, channel: Channel, row: Outbox) -> str | None:
        """Send the row, split when its text is too long; resumes after parts already sent."""
        message = self._message(channel, row)
        if message.document is not None or message.photo is not None:
            return (await channel.send(row.chat_id, message)).message_id
        caps = channel.capabilities
        parts = split_text(
            message.text, min(caps.max_text, channel.limits.max_text), caps.length_unit
        )
        message_id = row.message_id
        for index in range(row.parts_sent, len(parts)):
            last = index == len(parts) - 1
            part = Outgoing(text=parts[index], buttons=message.buttons if last else [])
            if index > row.parts_sent:
                await self.pacers[row.channel].acquire(row.chat_id)
            message_id = (await channel.send(row.chat_id, part)).message_id
            if not last:
                outbox_repo.record_part(self.engine, row.id, index + 1, message_id)
                row.parts_sent = index + 1
        return message_id

    def _migrate(self, row: Outbox, new_chat_id: str) -> None:
        """A group became a supergroup: contacts and unsent rows move to the new id."""
        old = row.chat_id
        with Session(self.engine) as session:
            session.execute(
                update(Contact)
                .where(Contact.channel == row.channel, Contact.chat_id == old)
                .values(chat_id=new_chat_id)
            )
            session.commit()
        outbox_repo.move_chat(self.engine, row.channel, old, new_chat_id)
        row.chat_id = new_chat_id
        log.info("chat migrated: outbox row %s follows the group to its new id", row.id)

    async def _failure(self, row: Outbox, exc: DeliveryError, pacer: Pacer) -> PassResult:
        now = self.clock.now()
        row_id: int = row.id
        if isinstance(exc, RetryAfter):
            pacer.pause(exc.seconds)
            outbox_repo.retry_later(
                self.engine,
                row_id,
                now + timedelta(seconds=exc.seconds),
                "retry_after",
                count_attempt=False,
            )
            return PassResult(retried=1)
        if isinstance(exc, TransientError):
            if isinstance(exc, MaybeDelivered):
                reason = f"uncertain: {exc or type(exc).__name__}; not repeated"
            elif row.attempts < self.config.max_attempts:
                delay = min(
                    self.config.backoff_base * 2 ** (row.attempts - 1), self.config.backoff_max
                )
                delay *= random.uniform(0.8, 1.2)
                outbox_repo.retry_later(
                    self.engine, row_id, now + timedelta(seconds=delay), f"transient: {exc}"
                )
                return PassResult(retried=1)
            else:
                reason = f"transient: gave up after {row.attempts} attempts: {exc}"
        elif isinstance(exc, Blocked):
            reason = "blocked: the user blocked the bot"
            self._blocked(row, now)
        elif isinstance(exc, ChatNotFound):
            reason = "chat_not_found: the chat does not exist"
        elif isinstance(exc, ChatMigrated):
            reason = "migrated: the chat moved twice"
        elif isinstance(exc, PermanentError):
            reason = f"rejected: {exc}"
        else:
            reason = f"error: {exc}"
        outbox_repo.mark_failed(self.engine, row_id, reason, now)
        row.status, row.error = outbox_repo.FAILED, reason
        await self._notify(row, outbox_repo.FAILED)
        return PassResult(failed=1)

    def _blocked(self, row: Outbox, now: datetime) -> None:
        """403: the contact goes inactive and the coordinators hear of it, once."""
        with Session(self.engine, expire_on_commit=False) as session:
            contacts = session.exec(
                select(Contact).where(
                    Contact.channel == row.channel, Contact.chat_id == row.chat_id
                )
            ).all()
            for contact in contacts:
                contact.active = False
                session.add(contact)
            coordinators = session.exec(
                select(Contact).where(
                    Contact.role == UserRole.COORDINATOR.value,
                    Contact.active == True,  # noqa: E712
                )
            ).all()
            items = []
            for contact in contacts:
                agency = session.get(Agency, contact.agency_id) if contact.agency_id else None
                text = render(
                    "reminders/contact_blocked.j2",
                    person=contact.display_name or contact.user_id,
                    agency=agency.name if agency else None,
                    role=contact.role,
                )
                for coordinator in coordinators:
                    if coordinator.id == contact.id:
                        continue
                    items.append(
                        OutboxItem(
                            key=f"notice:blocked:{contact.id}:{coordinator.id}",
                            channel=coordinator.channel,
                            chat_id=coordinator.chat_id,
                            contact_id=coordinator.id,
                            message=Outgoing(text=text),
                            kind="notice",
                        )
                    )
            outbox_repo.enqueue_many(session, items, now)
            session.commit()

    async def _notify(self, row: Outbox, status: str) -> None:
        row.status = status
        for listener in self.listeners:
            try:
                await listener(row)
            except Exception:
                log.exception("delivery listener failed for outbox row %s", row.id)
