"""Starting and stopping scheduling inside `parbot run`: the jobs and the delivery worker.

The scheduler ticks, the database decides: two fixed APScheduler jobs (explicit ids,
`replace_existing=True`, coalescing, a misfire grace shorter than the tick) ask the database
what is due every five minutes, and once right at start-up so that what fell due while parbot
was down goes out now — once, because every row has an idempotency key. No per-task jobs, no
job store to pickle or resynchronise. The delivery worker is a long-running task next to them.

With several worker processes (`parbot serve --workers N`, `shared=True`) every process runs a
delivery worker — the outbox is claimed row by row with FOR UPDATE SKIP LOCKED, and a row left
`sending` by a dead worker is marked uncertain once it is older than any live send can be — while
only the leader (scheduler/leader.py) runs the jobs and the `on_lead` duties (setWebhook, the
command menus). The others try to lead every `leader_retry` seconds: a dead leader's advisory lock
goes with its connection, so another worker takes over within that time and runs at once what
fell due (each row's idempotency key makes it happen once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from core.channel import Channel
from core.files import FileLinks
from scheduler.broadcast import BroadcastProgress, progress_relevance
from scheduler.context import Scheduling
from scheduler.delivery import DeliveryConfig, DeliveryWorker
from scheduler.digest import digest_relevance, sweep_digest
from scheduler.evaluations import refresh_evaluations
from scheduler.leader import Leadership, try_lead
from scheduler.reminders import reminder_relevance, sweep
from scheduler.send_lease import SendLeases
from storage import outbox as outbox_repo
from storage.outbox import Candidate
from storage.scheduling.broadcast import PROGRESS_KIND

log = logging.getLogger(__name__)

TICK_MINUTES = 5
MISFIRE_GRACE = timedelta(minutes=4)  # a tick later than this is skipped: the next one comes
LEADER_RETRY = 30.0  # seconds between attempts to become the scheduling process
SHARED_LEADER_RETRY = 3.0  # with several workers: a dead leader is replaced within this
#: A row `sending` for longer than this belongs to a dead worker (a live send times out sooner).
STALE_SENDING = timedelta(seconds=60)


class SharedDeliveryWorker(DeliveryWorker):
    """One of several processes' delivery workers: recovery takes only rows that a dead worker
    left `sending` (older than STALE_SENDING), never a live worker's send in flight; lanes are
    taken in a random order, so that two workers reading the same rows rarely wait at the pacer
    for the same row (the loser's slot would be spent on nothing)."""

    def lane_order(self, lanes: list[list[Candidate]]) -> list[list[Candidate]]:
        random.shuffle(lanes)
        return lanes

    def recover(self) -> int:
        now = self.clock.now()
        count = outbox_repo.recover_interrupted(
            self.engine, now, older_than=now - STALE_SENDING
        )
        if count:
            log.warning("outbox rows a dead worker left mid-send marked uncertain: %d", count)
        return count

JOBS: tuple[tuple[str, Callable[[Scheduling], Any]], ...] = (
    ("parbot.evaluations", refresh_evaluations),  # first: reminders and digests read today
    ("parbot.reminders", sweep),
    ("parbot.digest", sweep_digest),
)


@dataclass
class SchedulingService:
    ctx: Scheduling
    channels: Mapping[str, Channel]
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    files: FileLinks | None = None
    on_start: list[Callable[[], Any]] = field(default_factory=list)  # before the first pass
    on_lead: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)  # leader only
    # Several workers: the leader runs these every `watch_every` seconds (a worker killed
    # while the others went on leaves no restart to run `on_start` for its users).
    on_watch: list[Callable[[], Any]] = field(default_factory=list)
    watch_every: float = STALE_SENDING.total_seconds() / 2
    shared: bool = False  # one of several worker processes: every one delivers
    leader_retry: float = LEADER_RETRY
    scheduler: AsyncIOScheduler | None = None
    worker: DeliveryWorker | None = None
    leadership: Leadership | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def build_worker(self) -> DeliveryWorker:
        kind = SharedDeliveryWorker if self.shared else DeliveryWorker
        worker = kind(
            self.ctx.engine,
            self.channels,
            self.ctx.clock,
            self.ctx.calendar,
            replace(self.delivery, window=self.ctx.window),
            relevance={
                "reminder": reminder_relevance(self.ctx.tz),
                "checkin": reminder_relevance(self.ctx.tz),
                "digest": digest_relevance,
                PROGRESS_KIND: progress_relevance(self.channels),
            },
            files=self.files,
            leases=SendLeases(self.ctx.engine, list(self.channels)),  # one sender per channel
        )
        worker.listeners.append(BroadcastProgress(self.ctx.engine, worker, self.ctx.clock))
        return worker

    def build_scheduler(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(timezone=self.ctx.tz)
        for job_id, job in JOBS:
            scheduler.add_job(
                self._run_job,
                CronTrigger(minute=f"*/{TICK_MINUTES}", timezone=self.ctx.tz),
                args=[job_id, job],
                id=job_id,
                name=job_id,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
            )
        return scheduler

    async def _run_job(self, job_id: str, job: Callable[[Scheduling], Any]) -> None:
        try:
            result = await asyncio.to_thread(job, self.ctx)
            level = logging.DEBUG if getattr(result, "skipped", None) else logging.INFO
            log.log(level, "job %s: %s", job_id, result)
        except Exception:  # a failed tick is retried by the next one
            log.exception("job %s failed", job_id)
            return
        if self.worker is not None:
            self.worker.wake()

    async def start(self) -> None:
        """Become the scheduling process (or keep trying), then run the jobs and the worker.
        Shared: the delivery worker starts at once, the rest when this process leads."""
        if self.shared:
            self.worker = self.build_worker()
            self._tasks.append(asyncio.create_task(self.worker.run(self._stop)))
        self._tasks.append(asyncio.create_task(self._lead_then_run()))

    async def _lead_then_run(self) -> None:
        told = False
        while not self._stop.is_set():
            self.leadership = await asyncio.to_thread(try_lead, self.ctx.engine)
            if self.leadership is not None:
                break
            level = logging.DEBUG if told else logging.INFO
            log.log(level, "another process leads; retrying every %ss", self.leader_retry)
            told = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.leader_retry)
        if self._stop.is_set():
            return
        log.info("this process leads: scheduler and leader duties start")
        for duty in self.on_lead:  # setWebhook, command menus: once, by the leader
            try:
                await duty()
            except Exception:
                log.exception("leader duty failed")
        if self.shared:
            await self._lead_shared()
            return
        self.worker = self.build_worker()
        self.worker.recover()
        for startup in self.on_start:  # e.g. prompts a crash kept from their users
            try:
                await asyncio.to_thread(startup)
            except Exception:
                log.exception("start-up job failed")
        self.scheduler = self.build_scheduler()
        self.scheduler.start()
        for job_id, job in JOBS:  # catch up at once with what fell due while we were down
            await self._run_job(job_id, job)
        await self.worker.run(self._stop)

    async def _lead_shared(self) -> None:
        """The leader's part when every worker delivers: start-up jobs, the scheduler, and a
        periodic look for rows a dead worker left mid-send and prompts it never sent."""
        assert self.worker is not None
        for startup in self.on_start:
            try:
                await asyncio.to_thread(startup)
            except Exception:
                log.exception("start-up job failed")
        self.scheduler = self.build_scheduler()
        self.scheduler.start()
        for job_id, job in JOBS:
            await self._run_job(job_id, job)
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.watch_every)
            if self._stop.is_set():
                return
            for watch in [self.worker.recover, *self.on_watch]:
                try:
                    await asyncio.to_thread(watch)
                except Exception:
                    log.exception("periodic look failed: %s", getattr(watch, "__name__", watch))

    async def stop(self) -> None:
        self._stop.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 10)
        if self.leadership is not None:
            self.leadership.release()
            self.leadership = None


async def start_scheduling(
    ctx: Scheduling,
    channels: Mapping[str, Channel],
    delivery: DeliveryConfig | None = None,
    files: FileLinks | None = None,
    on_start: list[Callable[[], Any]] | None = None,
) -> SchedulingService:
    """Start the jobs and the delivery worker; `await service.stop()` on shutdown."""
    service = SchedulingService(ctx, channels, delivery or DeliveryConfig(), files, on_start or [])
    await service.start()
    return service
