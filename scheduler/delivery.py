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

Several worker processes (PostgreSQL): given `SendLeases`, a worker sends only on the channels
whose send budget it holds (scheduler/send_lease.py), so the platform's limits hold for all
workers together and a chat's messages still leave in order from one place. Taking a channel
over, it first settles what the previous holder left: its rows still `sending` become
uncertain, its recent sends are counted into the pacer, its 429 pause is honoured.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar

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
from scheduler.send_lease import LEASE_POLL, SendLeases, holder_name
from scheduler.written_signal import REQUEST_WRITTEN, WrittenAt
from storage import outbox as outbox_repo
from storage import sending as budget_repo
from storage.chat.choices import offer_choices_now
from storage.outbox import Candidate, OutboxItem
from storage.tables.shared import Agency, Contact, Outbox

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Kinds that wait for office hours on working days; replies to a user never wait.
#: ("flow_expired" is the chat's notice that an idle guided flow was dropped.)
SCHEDULED_KINDS = frozenset(
    {"reminder", "escalation", "checkin", "digest", "broadcast", "notice", "flow_expired"}
)

# A check of relevance, right before sending: None to send, or why the row no longer matters.
Relevance = Callable[[Session, Outbox, date], str | None]
# Called after each row reaches a final state (sent, failed, cancelled).
Listener = Callable[[Outbox], Awaitable[None]]

#: How far back a worker taking a channel over looks for the previous holder's sends: the
#: longest spacing a pacer keeps (a Telegram group: 60 s / 20 at 97 % ≈ 3.1 s), with room.
RECALL_SECONDS = 5.0
#: Sends recalled from another process's clock count as this much more recent (clock skew).
CLOCK_SLACK = 0.05
#: A send is counted from when its request left, at most this much before the worker woke to
#: it (a loaded event loop's delay; more would mean the stamp is not what we think it is).
WAKE_SLACK = 0.1


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


@dataclass
class DeliveryStats:
    """This worker's counts since it started (for tests and logs; /metrics reads the
    database, which every worker writes)."""

    results: PassResult = field(default_factory=PassResult)
    rate_limited: int = 0  # 429 answers received


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
        leases: SendLeases | None = None,
    ) -> None:
        self.engine = engine
        self.leases = leases  # None: this worker alone sends on every channel
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
        self.stats = DeliveryStats()
        self._next_lease_check = 0.0
        self._threaded = engine.dialect.name != "sqlite"

    @property
    def sending_on(self) -> frozenset[str]:
        """The channels this worker sends on now: all, or those whose send lease it holds."""
        if self.leases is None:
            return frozenset(self.channels)
        return self.leases.held & frozenset(self.channels)

    def _limits(self, channel: Channel) -> ChannelLimits:
        """The channel's limits; PARBOT_SEND_RATE may only lower its overall rate."""
        if self.config.per_second is None:
            return channel.limits
        per_second = min(channel.limits.per_second, self.config.per_second)
        return replace(channel.limits, per_second=per_second)

    # ------------------------------------------------------------------ running
    def recover(self) -> int:
        """At start-up: rows a crashed worker left `sending` become failed "uncertain".

        With send leases, only on the channels this worker holds: another live worker's rows
        in flight are its own business (`take_over` settles a channel when its lease changes
        hands)."""
        if self.leases is not None:
            return sum(
                outbox_repo.recover_interrupted(self.engine, self.clock.now(), channel=name)
                for name in self.sending_on
            )
        count = outbox_repo.recover_interrupted(self.engine, self.clock.now())
        if count:
            log.warning("outbox rows interrupted mid-send marked uncertain: %d", count)
        return count

    def wake(self) -> None:
        """Producers may call this after enqueueing so the worker does not wait for its poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; recovers interrupted rows first."""
        if self.leases is None:
            self.recover()
        try:
            while not stop.is_set():
                try:
                    await self.take_leases()
                    result = await self.run_once()
                except Exception:  # a bad pass must not kill the worker; the next one retries
                    log.exception("delivery pass failed")
                    result = PassResult()
                if result.handled:
                    continue
                idle = self.config.idle_poll
                if self.leases is not None and self.sending_on != frozenset(self.channels):
                    idle = min(idle, LEASE_POLL)  # ask for the missing leases again soon
                self._wake.clear()
                waiters = {
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self._wake.wait()),
                }
                _, pending = await asyncio.wait(
                    waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED
                )
                for task in pending:
                    task.cancel()
        finally:
            self.give_up_leases()

    async def take_leases(self) -> set[str]:
        """Ask for the send leases not held (at most every LEASE_POLL seconds while sending);
        settle each channel gained. Returns the channels gained."""
        leases = self.leases
        if leases is None:
            return set()
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_lease_check:
            return set()
        self._next_lease_check = loop.time() + LEASE_POLL
        gained = await asyncio.to_thread(leases.acquire)
        for name in sorted(gained & set(self.channels)):
            await self.take_over(name)
        return gained

    async def take_over(self, name: str) -> None:
        """Start sending on `name` where its previous holder stopped (see the module doc)."""
        now = self.clock.now()
        interrupted = await self.db(outbox_repo.recover_interrupted, self.engine, now, None, name)
        if interrupted:
            log.warning("channel %s: rows left mid-send marked uncertain: %d", name, interrupted)
        pacer = self.pacers[name]
        paused_until = await self.db(budget_repo.take_over, self.engine, name, holder_name(), now)
        if paused_until is not None:
            pacer.pause((paused_until - now).total_seconds())
        horizon = timedelta(seconds=RECALL_SECONDS)
        recent = await self.db(budget_repo.recent_sends, self.engine, name, now - horizon)
        now = self.clock.now()  # after the reads: their own time must not age the sends
        ago = [(chat, max(0.0, (now - at).total_seconds() - CLOCK_SLACK)) for chat, at in recent]
        await pacer.recall(sorted(ago, key=lambda sent: -sent[1]))

    def give_up_leases(self) -> None:
        if self.leases is None:
            return
        for name in self.leases.held:
            try:
                budget_repo.give_up(self.engine, name, holder_name())
            except Exception:
                log.debug("send budget of %s not cleared on stop", name)
        self.leases.release()

    async def run_once(self) -> PassResult:
        """One pass: every row due now (up to `batch`), lanes in parallel."""
        now = self.clock.now()
        skip: frozenset[str] = frozenset()
        if not self.config.window.is_open(now, self.calendar()):
            skip = self.config.scheduled_kinds
        with Session(self.engine) as session:
            rows = outbox_repo.candidates(
                session, now, self.config.batch, skip_kinds=skip, channels=self.sending_on
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
        self.stats.results.add(total)
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
        row, reason = await self.db(self._load, item.id, now)
        if row is None:
            return PassResult()
        if reason:
            if outbox_repo.cancel_pending(self.engine, item.id, reason):
                await self._notify(row, outbox_repo.CANCELLED)
                return PassResult(cancelled=1)
            return PassResult()
        await pacer.acquire_chat(item.chat_id)
        sending = await self._claim_and_start(item, row, channel, pacer)
        if sending == "taken":  # another worker had the row
            return PassResult()
        if sending == "gave_back":
            return PassResult(retried=1)  # stops the lane: its order waits for this row
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
        await self.db(outbox_repo.mark_sent, self.engine, row.id, message_id, self.clock.now())
        row.status, row.message_id = outbox_repo.SENT, message_id
        self._offer_numbered(channel, row)
        await self._notify(row, outbox_repo.SENT)
        return PassResult(sent=1)

    def _load(self, row_id: int, now: datetime) -> tuple[Outbox | None, str | None]:
        """The row if still pending, and why it no longer matters (None: send it)."""
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.get(Outbox, row_id)
            if row is None or row.status != outbox_repo.PENDING:
                return None, None
            return row, self._irrelevant(session, row, now)

    async def db(self, call: Callable[..., T], *args: Any) -> T:
        """A database call of the send path. On a server database it runs in a thread: a commit
        waits for the server's disk (milliseconds), and with ~3 per message at 30 messages a
        second the event loop would otherwise spend half of each second waiting instead of
        writing requests. SQLite commits in microseconds (WAL, synchronous=NORMAL) — and an
        in-memory SQLite database is one per thread — so there the call stays inline."""
        if self._threaded:
            return await asyncio.to_thread(call, *args)
        return call(*args)

    async def _claim_and_start(
        self, item: Candidate, row: Outbox, channel: Channel, pacer: Pacer
    ) -> asyncio.Future[str | None] | Literal["taken", "gave_back"]:
        """Claim the row, take its place in the overall window, start its send; return once
        the request is on the wire. "taken": another worker has the row; "gave_back": a pause
        began, and the row went back to pending rather than wait claimed (a crash during the
        pause would have made it "uncertain" without any request made).

        Between the claim's commit and the request's bytes leaving lies the only moment a crash
        makes a delivery uncertain, so one row at a time per channel is in that stretch (see
        scheduler/written_signal.py); the HTTP round trips themselves still overlap. The window
        slot is taken after the commit, right before the request: a slot taken before it would
        count from the request's departure anyway, so every millisecond of commit (on a busy
        database server, tens) would be lost from each second's allowance.
        """
        async with self._gates[item.channel]:
            await pacer.wait_pause()
            if not await self.db(outbox_repo.claim, self.engine, item.id, self.clock.now()):
                return "taken"
            slot = await pacer.acquire_window()
            if slot is None:
                await self.db(outbox_repo.unclaim, self.engine, item.id)
                return "gave_back"
            row.status, row.attempts = outbox_repo.SENDING, row.attempts + 1
            written = WrittenAt()
            token = REQUEST_WRITTEN.set(written)
            try:
                sending = asyncio.ensure_future(self._send_parts(channel, row))
            finally:
                REQUEST_WRITTEN.reset(token)
            # the window counts the send until a second after its answer (scheduler/pacing.py)
            sending.add_done_callback(lambda _done: pacer.answered(slot, written.answered_at))
            waiter = asyncio.ensure_future(written.wait())
            await asyncio.wait({sending, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            pacer.written(slot)
            if written.at is not None:  # the request's true departure, not when we woke to it
                slot.at = max(min(slot.at, written.at), slot.at - WAKE_SLACK)
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
        first = row.parts_sent  # the row's own place in the window was taken for this one
        for index in range(first, len(parts)):
            last = index == len(parts) - 1
            part = Outgoing(
                text=parts[index],
                buttons=message.buttons if last else [],
                notice=message.notice if last else None,  # a reminder's facts (ZNS) go once
            )
            if index == first:
                message_id = (await channel.send(row.chat_id, part)).message_id
            else:  # each further part is a message of its own to the platform's limits
                async with self.pacers[row.channel].turn(row.chat_id):
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
            self.stats.rate_limited += 1
            # counted for every worker, and a worker taking the channel over waits it out too
            budget_repo.rate_limited(self.engine, row.channel, now + timedelta(seconds=exc.seconds))
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
