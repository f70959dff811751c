"""Operations endpoints: `GET /healthz` and `GET /metrics` (Prometheus text format).

Both read the database, so with several workers behind a proxy each answers for the whole
deployment: outbox depth and age, messages by result, 429s (counted in `send_budget` by every
worker), updates processed in the last minute, the scheduling leader and the sender of each
channel. `parbot_process_leader` is the one figure about the answering process (by host:pid).

Only this machine may ask — the client address, after uvicorn has applied
PARBOT_WEB_TRUSTED_PROXIES, is a loopback address; a request that carries forwarding headers
while no proxy is trusted came through some proxy on this machine and is refused — or whoever
presents PARBOT_OPS_TOKEN as a bearer token. Everyone else gets 403 and learns nothing.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.web.context import OpsPolicy, WebContext
from scheduler.leader_watch import LeaderState, leader_state
from scheduler.send_lease import holder_name, leases_alive
from storage import health

FORWARDING = ("x-forwarded-for", "forwarded", "x-real-ip")


def allowed(request: Request, policy: OpsPolicy) -> bool:
    """A local client, or the configured bearer token (compared in constant time)."""
    if policy.token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), policy.token):
            return True
    client = request.scope.get("client")
    if not client:
        return False
    host = str(client[0])
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        return False
    # a request forwarded by a proxy on this machine that nobody said to trust is not local
    return policy.behind_proxy or not any(h in request.headers for h in FORWARDING)


def refused() -> Response:
    return PlainTextResponse("forbidden\n", status_code=403)


@dataclass(frozen=True)
class Reading:
    """One look at the database, taken in a worker thread."""

    database: bool
    leader: LeaderState | None = None
    lag: health.OutboxLag | None = None
    outbox: dict[tuple[str, str], int] | None = None
    updates_last_minute: int = 0
    budgets: list[Any] | None = None
    alive: dict[str, bool] | None = None


def read(web: WebContext, full: bool) -> Reading:
    engine = web.engine
    if not health.reachable(engine):
        return Reading(database=False)
    now = web.clock.now()
    leader = leader_state(engine)
    with Session(engine) as session:
        lag = health.outbox_lag(session, now)
        if not full:
            return Reading(True, leader, lag)
        outbox = health.outbox_by_channel_status(session)
        updates = health.updates_since(session, health.minute_ago(now))
        budgets = health.send_budgets(session)
    alive = leases_alive(engine, [b.channel for b in budgets])
    return Reading(True, leader, lag, outbox, updates, budgets, alive)


async def healthz(request: Request) -> Response:
    web: WebContext = request.app.state.web
    if not allowed(request, web.ops):
        return refused()
    reading = await run_in_threadpool(read, web, False)
    if not reading.database or reading.leader is None or reading.lag is None:
        return JSONResponse({"status": "fail", "database": False}, status_code=503)
    late = reading.lag.oldest_seconds > web.ops.max_lag_seconds
    ok = reading.leader.present and not late
    body = {
        "status": "ok" if ok else "fail",
        "database": True,
        "leader": {"present": reading.leader.present, "holder": reading.leader.holder},
        "outbox": {
            "due": reading.lag.due,
            "oldest_seconds": round(reading.lag.oldest_seconds, 1),
            "max_lag_seconds": web.ops.max_lag_seconds,
        },
    }
    return JSONResponse(body, status_code=200 if ok else 503)


class _Reading(Collector):
    """The families of one reading, for prometheus_client's text exposition."""

    def __init__(self, reading: Reading) -> None:
        self.reading = reading

    def collect(self) -> list[Metric]:
        r = self.reading
        up = GaugeMetricFamily("parbot_database_up", "The database answered (1) or not (0).")
        up.add_metric([], 1.0 if r.database else 0.0)
        families: list[Metric] = [up]
        if not r.database or r.leader is None or r.lag is None:
            return families
        present = GaugeMetricFamily(
            "parbot_leader_present", "Some process holds the scheduling leadership."
        )
        present.add_metric([], 1.0 if r.leader.present else 0.0)
        this = GaugeMetricFamily(
            "parbot_process_leader",
            "This process (host:pid) is the scheduling leader; PostgreSQL only.",
            labels=["process"],
        )
        if r.leader.holder is not None:
            this.add_metric([holder_name()], 1.0 if r.leader.holder == holder_name() else 0.0)
        due = GaugeMetricFamily("parbot_outbox_due", "Pending outbox rows whose time has come.")
        due.add_metric([], r.lag.due)
        age = GaugeMetricFamily(
            "parbot_outbox_oldest_due_seconds", "How long the oldest due row has waited."
        )
        age.add_metric([], r.lag.oldest_seconds)
        rows = GaugeMetricFamily(
            "parbot_outbox_messages",
            "Outbox rows by channel and status (sent, failed, cancelled: sends by result).",
            labels=["channel", "status"],
        )
        for (channel, status), count in sorted((r.outbox or {}).items()):
            rows.add_metric([channel, status], count)
        updates = GaugeMetricFamily(
            "parbot_updates_last_minute", "Incoming updates processed in the last 60 seconds."
        )
        updates.add_metric([], r.updates_last_minute)
        per_second = GaugeMetricFamily(
            "parbot_updates_per_second", "Incoming updates per second over the last minute."
        )
        per_second.add_metric([], r.updates_last_minute / 60.0)
        limited = CounterMetricFamily(
            "parbot_rate_limited", "429 answers received, all workers together.", labels=["channel"]
        )
        sender = GaugeMetricFamily(
            "parbot_send_lease_held",
            "The channel's send budget is held by a live worker (PostgreSQL: from pg_locks).",
            labels=["channel", "holder"],
        )
        for budget in r.budgets or []:
            limited.add_metric([budget.channel], budget.rate_limited)
            if budget.holder:
                live = (r.alive or {}).get(budget.channel, True)
                sender.add_metric([budget.channel, budget.holder], 1.0 if live else 0.0)
        families += [present, this, due, age, rows, updates, per_second, limited, sender]
        return families


async def metrics(request: Request) -> Response:
    web: WebContext = request.app.state.web
    if not allowed(request, web.ops):
        return refused()
    reading = await run_in_threadpool(read, web, True)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Reading(reading))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)


ROUTES = [
    Route("/healthz", healthz, methods=["GET"], name="healthz"),
    Route("/metrics", metrics, methods=["GET"], name="metrics"),
]
