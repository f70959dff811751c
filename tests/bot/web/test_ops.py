"""/healthz and /metrics: read from the database, answered only to this machine or a token."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.web.app import create_app
from bot.web.context import OpsPolicy, WebContext
from core.clock import FixedClock
from core.outgoing import Outgoing
from scheduler.leader import try_lead
from scheduler.send_lease import holder_name
from storage import outbox as outbox_repo
from storage import sending as budget_repo
from storage.db import transaction
from storage.outbox import OutboxItem
from storage.tables.chat import ProcessedUpdate
from tests.support.chat import T0

BASE = "http://parbot.test"
LOCAL = ("127.0.0.1", 40000)


def web_of(engine, **policy) -> WebContext:
    return WebContext(engine=engine, clock=FixedClock(T0), public_url=BASE, ops=OpsPolicy(**policy))


def client(web: WebContext, peer=LOCAL) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(web), client=peer)
    return httpx.AsyncClient(transport=transport, base_url=BASE)


def enqueue(engine, key: str, minutes_ago: float, chat: str = "100") -> int:
    with transaction(engine) as session:
        row = outbox_repo.enqueue(
            session,
            OutboxItem(key=key, channel="telegram", chat_id=chat, message=Outgoing("Xin chào")),
            T0 - timedelta(minutes=minutes_ago),
        )
        assert row is not None and row.id is not None
        return row.id


@pytest.fixture
def leader(any_empty_engine):
    held = try_lead(any_empty_engine)
    assert held is not None
    yield held
    held.release()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_health_reports_database_leader_and_outbox_lag(any_empty_engine, leader):
    enqueue(any_empty_engine, "old", minutes_ago=3)
    enqueue(any_empty_engine, "new", minutes_ago=1)
    async with client(web_of(any_empty_engine)) as http:
        answer = await http.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["database"] is True
    assert body["leader"]["present"] is True
    assert body["outbox"]["due"] == 2
    assert body["outbox"]["oldest_seconds"] == pytest.approx(180, abs=1)


async def test_health_fails_without_a_leader_or_when_the_outbox_lags(any_empty_engine):
    async with client(web_of(any_empty_engine)) as http:
        nobody = await http.get("/healthz")
    assert nobody.status_code == 503 and nobody.json()["leader"]["present"] is False
    held = try_lead(any_empty_engine)
    assert held is not None
    try:
        enqueue(any_empty_engine, "stuck", minutes_ago=30)
        async with client(web_of(any_empty_engine, max_lag_seconds=600)) as http:
            late = await http.get("/healthz")
    finally:
        held.release()
    assert late.status_code == 503
    assert late.json()["outbox"]["oldest_seconds"] == pytest.approx(1800, abs=1)


async def test_metrics_count_every_worker_from_the_database(any_empty_engine, leader):
    sent = enqueue(any_empty_engine, "a", minutes_ago=2, chat="1")
    enqueue(any_empty_engine, "b", minutes_ago=2, chat="2")
    outbox_repo.mark_sent(any_empty_engine, sent, "9", T0)
    budget_repo.rate_limited(any_empty_engine, "telegram", T0 + timedelta(seconds=3))
    budget_repo.rate_limited(any_empty_engine, "telegram", T0 + timedelta(seconds=1))
    budget_repo.take_over(any_empty_engine, "telegram", "worker-b:42", T0)
    with transaction(any_empty_engine) as session:
        for n, ago in enumerate((10, 20, 200)):  # two within the last minute
            session.add(
                ProcessedUpdate(
                    channel="telegram", update_id=str(n), processed_at=T0 - timedelta(seconds=ago)
                )
            )
    async with client(web_of(any_empty_engine)) as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(answer.text)
    assert found[("parbot_database_up", ())] == 1
    assert found[("parbot_leader_present", ())] == 1
    assert found[("parbot_outbox_due", ())] == 1
    assert found[("parbot_outbox_oldest_due_seconds", ())] == pytest.approx(120, abs=1)
    by = (("channel", "telegram"), ("status", "sent"))
    assert found[("parbot_outbox_messages", by)] == 1
    assert found[("parbot_rate_limited_total", (("channel", "telegram"),))] == 2
    assert found[("parbot_updates_last_minute", ())] == 2
    holder = (("channel", "telegram"), ("holder", "worker-b:42"))
    if any_empty_engine.dialect.name == "postgresql":
        # the lease is not held by any live process: the stale holder shows as 0
        assert found[("parbot_send_lease_held", holder)] == 0
        assert found[("parbot_process_leader", (("process", holder_name()),))] == 1
    else:
        assert found[("parbot_send_lease_held", holder)] == 1


async def test_a_stranger_is_refused_and_a_token_lets_a_scraper_in(any_empty_engine):
    web = web_of(any_empty_engine, token="s3cret-token")
    stranger = ("10.0.0.7", 5000)
    async with client(web, stranger) as http:
        assert (await http.get("/metrics")).status_code == 403
        assert (await http.get("/healthz")).status_code == 403
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        right = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert right.status_code == 200 and "parbot_database_up 1.0" in right.text


async def test_a_request_forwarded_by_an_untrusted_local_proxy_is_not_local(any_empty_engine):
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    async with client(web_of(any_empty_engine)) as http:
        assert (await http.get("/metrics", headers=forwarded)).status_code == 403
        assert (await http.get("/metrics")).status_code == 200
    # with trusted proxies, uvicorn has already put the real client in the scope
    async with client(web_of(any_empty_engine, behind_proxy=True)) as http:
        assert (await http.get("/metrics", headers=forwarded)).status_code == 200
    async with client(web_of(any_empty_engine, behind_proxy=True), ("203.0.113.9", 1)) as http:
        assert (await http.get("/metrics", headers=forwarded)).status_code == 403
