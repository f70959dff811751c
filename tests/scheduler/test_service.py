"""The scheduling service: fixed APScheduler jobs, catch-up at start, one leader, clean stop."""

from __future__ import annotations

import asyncio
from datetime import date

from apscheduler.triggers.cron import CronTrigger

from core.clock import FixedClock
from scheduler.context import Scheduling
from scheduler.leader import try_lead
from scheduler.service import SchedulingService, start_scheduling
from tests.support.scheduling import MemoryChannel, add_contact, vn


async def wait_for(condition, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_jobs_are_few_fixed_and_restart_safe(engine):
    service = SchedulingService(Scheduling(engine, FixedClock(vn(date(2024, 7, 2), 9))), {})
    scheduler = service.build_scheduler()
    jobs = ["parbot.digest", "parbot.evaluations", "parbot.reminders"]
    for job_id in jobs:
        job = scheduler.get_job(job_id)
        assert job is not None and job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time == 240
        assert isinstance(job.trigger, CronTrigger) and "*/5" in str(job.trigger)
    again = service.build_scheduler()  # a restart registers the same jobs, nothing more
    assert sorted(j.id for j in again.get_jobs()) == jobs


async def test_start_catches_up_with_what_fell_due_then_stops_cleanly(engine):
    add_contact(engine, "focal", "STP", "501")
    add_contact(engine, "coordinator", "SNV", "900")
    channel = MemoryChannel()
    clock = FixedClock(vn(date(2024, 7, 2), 10, 40))  # parbot was down at 07:30 and 08:00
    service = await start_scheduling(Scheduling(engine, clock), {"telegram": channel})
    try:
        await wait_for(lambda: channel.to("501") and channel.to("900"))
        assert try_lead(engine) is None  # a second process would not schedule or deliver
    finally:
        await service.stop()
    assert sorted(t.splitlines()[0] for t in channel.to("501")) == [
        "⏰ Còn 3 ngày làm việc đến hạn",
        "📋 Việc cần làm của Sở Tư pháp — 02/07/2024",
    ]
    assert channel.to("900")[0].startswith("📊 Bản tin ngày 02/07/2024")
    leadership = try_lead(engine)
    assert leadership is not None  # released on stop
    leadership.release()
