"""Starting and stopping scheduling inside `parbot run`: the jobs and the delivery worker.

The scheduler ticks, the database decides: two fixed APScheduler jobs (explicit ids,
`replace_existing=True`, coalescing, a misfire grace shorter than the tick) ask the database
what is due every five minutes, and once right at start-up so that what fell due while parbot
was down goes out now — once, because every row has an idempotency key. No per-task jobs, no
job store to pickle or resynchronise. The delivery worker is a long-running task next to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
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
from storage.scheduling.broadcast import PROGRESS_KIND

log = logging.getLogger(__name__)

TICK_MINUTES = 5
MISFIRE_GRACE = timedelta(minutes=4)  # a tick later than this is skipped: the next one comes
LEADER_RETRY = 30.0  # seconds between attempts to become the scheduling process

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
    scheduler: AsyncIOScheduler | None = None
    worker: DeliveryWorker | None = None
    leadership: Leadership | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def build_worker(self) -> DeliveryWorker:
        worker = DeliveryWorker(
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
        """Become the scheduling process (or keep trying), then run the jobs and the worker."""
        self._tasks.append(asyncio.create_task(self._lead_then_run()))

    async def _lead_then_run(self) -> None:
        while not self._stop.is_set():
            self.leadership = await asyncio.to_thread(try_lead, self.ctx.engine)
            if self.leadership is not None:
                break
            log.info("another process schedules and delivers; retrying in %ss", LEADER_RETRY)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), LEADER_RETRY)
        if self._stop.is_set():
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
