"""The channel assembled from settings: quota counted both ways, 80 % warning, refused token."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session, select

from bot.app import build_app as build_runtime
from bot.channels.zalo_bot.service import ZaloBotService
from bot.settings import Settings
from core.channel import PermanentError
from core.clock import FixedClock
from core.outgoing import Outgoing
from storage.tables.shared import Contact, Outbox
from storage.zalo.quota import usage
from tests.fakes.zalo.bot import FakeZaloBot
from tests.support.chat import T0

USER = "6ede9afa66b88fe6d6a9"


def service_for(api: FakeZaloBot, engine, quota: int = 10) -> ZaloBotService:
    settings = Settings(
        _env_file=None,
        ZALO_BOT_TOKEN=api.token,
        ZALO_BOT_API_URL=api.base_url,
        ZALO_BOT_MONTHLY_QUOTA=quota,
    )
    return ZaloBotService(build_runtime(settings, engine, FixedClock(T0)))


async def test_quota_counts_both_directions_and_warns_coordinators_once_at_80_percent(engine):
    with Session(engine) as session:
        session.add(Contact(channel="telegram", user_id="9", chat_id="9", role="coordinator"))
        session.add(Contact(channel="telegram", user_id="8", chat_id="8", role="focal"))
        session.commit()
    with FakeZaloBot() as api:
        service = service_for(api, engine, quota=10)
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        mark = api.mark()
        api.inject(api.make_text(USER, "/help"))  # 1 in, 1 out
        async with asyncio.timeout(10):
            while not api.sent(USER, since=mark):
                await asyncio.sleep(0.05)
        for _ in range(6):
            await service.channel.send(USER, Outgoing("Nhắc việc"))
        with Session(engine) as session:
            assert usage(session, "zalo", T0, 10).used == 8
            alerts = session.exec(select(Outbox).where(Outbox.kind == "zalo_alert")).all()
        assert [(a.chat_id, "8/10" in a.payload) for a in alerts] == [("9", True)]
        await service.channel.send(USER, Outgoing("Nhắc việc"))
        with Session(engine) as session:  # once a month, not at every message above 80 %
            assert len(session.exec(select(Outbox).where(Outbox.kind == "zalo_alert")).all()) == 1
        stop.set()
        await task


async def test_refused_token_is_told_to_admins_on_other_channels(engine):
    with Session(engine) as session:
        session.add(Contact(channel="telegram", user_id="42", chat_id="42", role="admin"))
        session.add(Contact(channel="zalo", user_id=USER, chat_id=USER, role="admin"))
        session.commit()
    with FakeZaloBot() as api:
        service = service_for(api, engine)
        api.fail_next("getUpdates", 401)
        await asyncio.wait_for(service.run(asyncio.Event()), 10)
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.kind == "zalo_alert")).all()
    assert [(r.channel, r.chat_id) for r in rows] == [("telegram", "42")]
    assert "ZALO_BOT_TOKEN" in rows[0].payload


async def test_a_refused_token_while_sending_is_told_to_admins_too(engine):
    with Session(engine) as session:
        session.add(Contact(channel="telegram", user_id="42", chat_id="42", role="admin"))
        session.commit()
    with FakeZaloBot() as api:
        service = service_for(api, engine)
        api.fail_next("sendMessage", 401, 401)
        for _ in range(2):
            with pytest.raises(PermanentError):
                await service.channel.send(USER, Outgoing("Nhắc việc"))
        await service.client.aclose()
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.kind == "zalo_alert")).all()
    assert [(r.channel, r.chat_id) for r in rows] == [("telegram", "42")]  # once, not twice
