"""Outbox delivery on the OA: a reminder to a user silent beyond the window is not sent and the
row says why; with ZNS configured the same reminder goes out as a template message."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from bot.channels.zalo_oa.channel import zns_fields
from core.calendar import WorkCalendar
from core.clock import FixedClock
from core.model import UserRole
from core.outgoing import Notice, Outgoing
from scheduler.context import Scheduling
from scheduler.delivery import DeliveryConfig, DeliveryWorker
from scheduler.digest import sweep_digest
from scheduler.reminders import sweep
from storage.db import transaction
from storage.outbox import OutboxItem, enqueue
from storage.tables.shared import Outbox
from storage.zalo.alerts import contact_id_of
from storage.zalo.window import set_phone
from tests.bot.channels.zalo_oa.support import connect, deliver, service_for
from tests.fakes.zalo.oa import FakeZaloOA
from tests.support.chat import T0, invite_code
from tests.support.scheduling import add_contact, vn

USER = "246845883529197922"


def queue(engine, key: str, now) -> None:
    contact = contact_id_of(engine, "zalo_oa", USER)
    with transaction(engine) as session:
        notice = Notice("III.4.1", "Giải quyết hồ sơ đúng hạn", "2024-07-15")
        message = Outgoing("Nhắc hạn: nhiệm vụ III.4.1 đến hạn 15/07/2024", notice=notice)
        item = OutboxItem(key, "zalo_oa", USER, message, contact, kind="reminder")
        enqueue(session, item, now)


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
        # the coordinators' next digest names who could not be reached, and the reminder count
        coordinator = add_contact(engine, "coordinator", "SNV", "c1")
        digest_day = FixedClock(vn(date(2024, 7, 5), 7, 30))
        assert sweep_digest(Scheduling(engine, digest_day)).written.get("coordinator") == 1
        with Session(engine) as session:
            digest = session.exec(select(Outbox).where(Outbox.contact_id == coordinator)).one()
        text = Outgoing.from_json(digest.payload).text
        assert "Chưa liên lạc được qua Zalo OA (1 người)" in text and "Sở Tư pháp: 1 tin" in text
        assert "chưa cấu hình mẫu tin ZNS; chưa có số điện thoại" in text
        assert "1 lời nhắc hạn chưa gửi được" in text

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


async def test_a_swept_reminder_outside_the_window_goes_as_zns_with_its_round_and_deadline(
    any_engine,
):
    """The scheduler's own reminder (not a hand-made one) through the outbox to a Zalo OA user
    silent for three days: a ZNS message carrying the round, its deadline and the link."""
    engine = any_engine
    with FakeZaloOA() as oa:
        clock = FixedClock(T0)
        service = service_for(oa, engine, clock, ZALO_ZNS_TEMPLATE_ID="231645")
        await connect(service, oa)
        code = invite_code(engine, "STP", UserRole.FOCAL)
        assert await deliver(service, oa, USER, text=f"/start {code}") == 200
        set_phone(engine, "zalo_oa", USER, "84912345678")
        clock.set(vn(date(2024, 7, 4), 8, 5))  # T−1 of the 5 July round, 3 days of silence
        assert sweep(Scheduling(engine, clock)).written >= 1
        replies = len(oa.sent(USER))
        await run_worker(engine, service, clock)
        with Session(engine) as session:
            row = session.exec(select(Outbox).where(Outbox.chat_id == USER)).one()
        assert (row.kind, row.status) == ("reminder", "sent")
        [zns] = oa.sent(path="/message/template")
        data = zns.params["template_data"]
        assert (data["ma_nhiem_vu"], data["han_bao_cao"]) == ("KH-CAITHIEN-2024", "05/07/2024")
        assert data["ten_nhiem_vu"].startswith("Kế hoạch cải thiện")
        assert data["lien_ket"] == "https://parbot.example.gov.vn"
        assert len(oa.sent(USER)) == replies  # no consultation message outside the window
        await service.aclose()
