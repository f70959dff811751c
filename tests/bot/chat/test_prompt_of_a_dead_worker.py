"""Several workers: one dies between a step's commit and its reply while the others go on, so
no restart runs the start-up resend for its user. The leader looks every half minute and asks
each such question again — once, and only when the step is old enough that no live worker can
still be sending it (bot/app.py PROMPT_GRACE, scheduler/service.py `on_watch`)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from bot.app import PROMPT_GRACE
from core.clock import FixedClock
from core.model import UserRole
from scheduler.context import Scheduling
from scheduler.service import SchedulingService
from storage.tables.chat import ChatFlow
from storage.tables.shared import Outbox
from tests.bot.web.flows import deliver
from tests.support.chat import T0, ChatBot, invite_code
from tests.support.scheduling import vn

FOCAL = 6301
QUESTION = "Tình trạng hiện nay"


async def test_the_question_a_dead_worker_never_sent_is_asked_again_once(fake_api, engine):
    clock = FixedClock(T0)
    async with ChatBot(fake_api, engine, clock) as bot:
        await bot.command(FOCAL, "start", invite_code(engine, "STP", UserRole.FOCAL, T0))
        await bot.command(FOCAL, "baocao", "III.4.1", expect=QUESTION)
        with Session(engine) as session:  # the worker died after the commit, before the reply
            session.execute(update(ChatFlow).values(prompt_sent_seq=None))
            session.commit()
        assert bot.dispatcher is not None
        clock.set(T0 + timedelta(seconds=30))  # a live worker may still be sending it
        assert bot.dispatcher.resend_prompts(PROMPT_GRACE) == 0
        clock.set(T0 + PROMPT_GRACE + timedelta(seconds=1))
        assert bot.dispatcher.resend_prompts(PROMPT_GRACE) == 1
        assert bot.dispatcher.resend_prompts(PROMPT_GRACE) == 0  # once
        mark = fake_api.mark()
        assert await deliver(bot) == 1
    again = [c for c in fake_api.sent_messages(FOCAL) if c.seq >= mark]
    assert len(again) == 1 and QUESTION in again[0].text
    with Session(engine) as session:
        row = session.exec(select(ChatFlow)).one()
        assert row.prompt_sent_seq == row.seq
        kinds = session.exec(select(Outbox.kind)).all()
    assert kinds.count("flow_prompt") == 1


async def test_the_shared_leader_looks_again_and_again(engine):
    looks: list[int] = []
    service = SchedulingService(
        Scheduling(engine, FixedClock(vn(date(2024, 7, 2), 9))),
        {},
        shared=True,
        on_watch=[lambda: looks.append(1)],
        watch_every=0.05,
    )
    await service.start()
    try:
        async with asyncio.timeout(20):
            while len(looks) < 3:
                await asyncio.sleep(0.02)
    finally:
        await service.stop()
    seen = len(looks)
    await asyncio.sleep(0.2)
    assert len(looks) == seen  # and not after it stopped
