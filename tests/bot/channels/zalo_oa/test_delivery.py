"""Outbox delivery on the OA: a reminder to a user silent beyond the window is not sent and the
row says why; with ZNS configured the same reminder goes out as a template message."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bot.channels.zalo_oa.channel import zns_fields
from core.calendar import WorkCalendar
from core.clock import FixedClock
from core.model import UserRole
from core.outgoing import Notice, Outgoing
from scheduler.delivery import DeliveryConfig, DeliveryWorker
from storage.db import transaction
from storage.outbox import OutboxItem, enqueue
from storage.tables.shared import Outbox
from storage.zalo.window import set_phone
from tests.bot.channels.zalo_oa.support import connect, deliver, service_for
from tests.fakes.zalo.oa import FakeZaloOA
from tests.support.chat import T0, invite_code

USER = "246845883529197922"


def queue(engine, key: str, now) -> None:
    with transaction(engine) as session:
        notice = Notice("III.4.1", "Giải quyết hồ sơ đúng hạn", "2024-07-15")
        message = Outgoing("Nhắc hạn: nhiệm vụ III.4.1 đến hạn 15/07/2024", notice=notice)
        enqueue(session, OutboxItem(key, "zalo_oa", USER, message, kind="reminder"), now)


async def run_worker(engine, service, clock) -> None:
    config = DeliveryConfig(scheduled_kinds=frozenset(), per_second=None)
    channels = {"zalo_oa": service.channel}
    worker = DeliveryWorker(engine, channels, clock, lambda: WorkCalendar.of(), config)
    await worker.run_once()


async def test_outside_the_window_the_outbox_row_fails_with_its_reason_or_goes_as_zns(
    any_engine,
):
    engine = any_engine
    with FakeZaloOA() as oa:
        clock = FixedClock(T0)
        service = service_for(oa, engine, clock, ZALO_OA_WINDOW_HOURS=48)
        await connect(service, oa)
        code = invite_code(engine, "STP", UserRole.FOCAL)
        assert await deliver(service, oa, USER, text=f"/start {code}") == 200
        clock.set(T0 + timedelta(days=3))
        queue(engine, "reminder:silent", clock.now())
        await run_worker(engine, service, clock)
        with Session(engine) as session:
            row = session.exec(
                select(Outbox).where(Outbox.idempotency_key == "reminder:silent")
            ).one()
        assert row.status == "failed" and "outside_window" in (row.error or "")
        assert oa.sent(path="/message/template") == []

        zns = service_for(oa, engine, clock, ZALO_ZNS_TEMPLATE_ID="231645")
        set_phone(engine, "zalo_oa", USER, "84912345678")
        queue(engine, "reminder:zns", clock.now())
        await run_worker(engine, zns, clock)
        with Session(engine) as session:
            row = session.exec(select(Outbox).where(Outbox.idempotency_key == "reminder:zns")).one()
        assert row.status == "sent" and row.message_id
        assert len(oa.sent(path="/message/template")) == 1
        await service.aclose()
        await zns.aclose()


def test_zns_template_data_fits_the_parameter_limits():
    refs = ", ".join(f"III.4.{n}" for n in range(1, 9))  # a reminder for eight tasks
    fields = zns_fields(Notice(refs, "8 nhiệm vụ đến hạn báo cáo", "2024-07-05"), "https://x.vn")
    assert fields["ma_nhiem_vu"].startswith("III.4.1, III.4.2")
    assert len(fields["ma_nhiem_vu"]) <= 30 and fields["ma_nhiem_vu"].endswith("…")
    assert fields["ten_nhiem_vu"] == "8 nhiệm vụ đến hạn báo cáo"
    assert (fields["han_bao_cao"], fields["lien_ket"]) == ("05/07/2024", "https://x.vn")
    undated = zns_fields(Notice("III.4.1", "Tên"), "")
    assert undated["han_bao_cao"] == "" and undated["lien_ket"] == ""
