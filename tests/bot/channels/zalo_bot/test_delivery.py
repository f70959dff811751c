"""The delivery worker with Telegram and Zalo side by side: each paced at its own rate, a
Zalo 429 backs off and is retried, nothing is sent twice or lost."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import insert
from sqlmodel import Session, select

from bot.channels.telegram.delivery import delivery_channel
from bot.channels.zalo_bot.channel import ZaloBotChannel
from bot.channels.zalo_bot.client import ZaloBotClient
from core.broadcast import AudienceKind, BroadcastAudience
from core.calendar import WorkCalendar
from core.clock import SystemClock
from core.outgoing import Outgoing
from scheduler.delivery import DeliveryConfig, DeliveryWorker
from storage import outbox as outbox_repo
from storage.db import transaction
from storage.scheduling.broadcast import Recipient, create_broadcast
from storage.tables.shared import Contact
from tests.fakes.botapi import FakeBotApi
from tests.fakes.zalo.bot import FakeZaloBot

N = 12


def prepare(engine) -> None:
    now = SystemClock().now()
    with transaction(engine) as session:
        sender = Contact(channel="zalo", user_id="sender", chat_id="sender", role="coordinator")
        session.add(sender)
        session.flush()
        rows = [
            {"channel": channel, "user_id": f"{channel[0]}{n}", "chat_id": chat,
             "display_name": "", "role": "focal", "active": True, "digest_muted": False,
             "created_at": now}
            for n in range(N)
            for channel, chat in (("telegram", str(800_000 + n)), ("zalo", f"z{n:04x}"))
        ]  # fmt: skip
        session.execute(insert(Contact), rows)
        targets = [
            Recipient(cid, channel, chat, None)
            for cid, channel, chat in session.execute(
                select(Contact.id, Contact.channel, Contact.chat_id).where(Contact.role == "focal")
            ).all()
        ]
        create_broadcast(
            session,
            audience=BroadcastAudience(AudienceKind.ALL_FOCAL),
            message=Outgoing("Nhắc nhở: đề nghị gửi báo cáo Quý III.\n\n1. Báo cáo ngay"),
            progress=Outgoing("Đang gửi…"),
            targets=targets,
            sender=sender,
            actor="test",
            now=now,
        )


async def test_mixed_broadcast_paced_per_channel_with_a_zalo_429(any_engine, monkeypatch):
    engine = any_engine
    prepare(engine)
    with FakeBotApi() as tg, FakeZaloBot(rate=6, quota=10**6) as zalo:
        telegram, bot = delivery_channel(tg.token, tg.base_url, engine)
        channels: dict = {"telegram": telegram}
        client = ZaloBotClient(zalo.token, zalo.base_url, quota_backoff=0.5)
        channels["zalo"] = ZaloBotChannel(client, rate=6)
        zalo.fail_next("sendMessage", 429)
        config = DeliveryConfig(scheduled_kinds=frozenset(), per_second=None, backoff_base=0.1)
        worker = DeliveryWorker(engine, channels, SystemClock(), lambda: WorkCalendar.of(), config)
        async with bot:
            async with asyncio.timeout(60):
                while True:
                    await worker.run_once()
                    with Session(engine) as session:
                        counts = outbox_repo.status_counts(session)
                    if not counts.get("pending") and not counts.get("sending"):
                        break
                    await asyncio.sleep(0.1)
        await client.aclose()
        zalo_sent = [c for c in zalo.sent() if c.chat_id != "sender"]
        tg_sent = [c for c in tg.sent_messages() if c.method == "sendMessage"]
        rejected = zalo.rejected_429
        answered_429 = [c for c in zalo.calls_to("sendMessage") if c.reply.get("error_code") == 429]
    assert counts == {"sent": 2 * N + 1}
    assert Counter(c.chat_id for c in zalo_sent) == {f"z{n:04x}": 1 for n in range(N)}
    assert Counter(str(c.chat_id) for c in tg_sent) == {str(800_000 + n): 1 for n in range(N)}
    assert len(answered_429) == 1  # backed off, then sent once
    assert rejected == 0  # the injected 429 is not counted by the fake's limiter; none beyond it
    times = sorted(c.at for c in zalo_sent)
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= 6.5, f"zalo paced at {rate:.1f}/s, above its configured 6/s"
