""" "What is due now?" over a nationwide plan: 5,000 agencies, 70 tasks, 350,000 assignments.

Builds the data with bulk inserts (agencies, one plan, tasks with a spread of deadlines and
recurring tasks, 350,000 assignments half lead / half coordinating, reports for a third of the
lead assignments, three open rounds, a focal point per agency), then times, on SQLite and on
PostgreSQL:

* `obligations_due` — the question the reminder job asks every five minutes — on a day chosen
  to be the worst case: the quarter round's T−3, 20 tasks' T−7 and the monthly check-in day;
* the whole sweep (the same query plus writing the reminders, button tokens and records) once,
  and a second time (idempotent: writes nothing).

Target: `obligations_due` ≤ 1 s on both.

    .venv/bin/python bench/reminder_sweep.py [--agencies 5000] [--tasks 70] [--no-postgres]
    (PostgreSQL: PARBOT_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.clock import FixedClock  # noqa: E402
from scheduler.context import Scheduling  # noqa: E402
from scheduler.reminders import obligations_due, sweep  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.tables.shared import (  # noqa: E402
    Agency,
    Area,
    Assignment,
    Contact,
    Plan,
    ReportingRound,
    StatusReport,
    Task,
)

TODAY = date(2024, 9, 25)  # Wednesday: T−3 of 30/9 … (see deadlines below)
ROUND_DEADLINE = date(2024, 9, 30)
TASK_T7 = date(2024, 10, 4)  # 7 working days after 25/9 (2/9, 3/9 are before)
KINDS = [("department", 0.14), ("district", 0.14), ("vertical", 0.03), ("public_unit", 0.03)]
CHUNK = 20_000


def bulk(session: Session, table: type, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[start : start + CHUNK])


def build(engine, agencies: int, tasks: int) -> dict[str, int]:
    rnd = random.Random(7)
    now = datetime(2024, 9, 1, tzinfo=UTC)
    with Session(engine) as session:
        kinds = []
        for kind, share in KINDS:
            kinds += [kind] * int(agencies * share)
        kinds += ["commune"] * (agencies - len(kinds))
        bulk(
            session,
            Agency,
            [
                {
                    "code": f"A{i:05d}",
                    "name": f"Cơ quan {i}",
                    "kind": k,
                    "aliases": "",
                    "active": True,
                }
                for i, k in enumerate(kinds)
            ],
        )
        session.execute(
            insert(Plan),
            [{"code": "NATION-2024", "title": "Kế hoạch toàn quốc", "year": 2024, "issuer": "",
              "source": "", "imported_at": now}],
        )  # fmt: skip
        plan_id = session.execute(text("SELECT id FROM plan")).scalar_one()
        bulk(
            session,
            Area,
            [{"plan_id": plan_id, "code": c, "title": f"Lĩnh vực {c}", "position": n}
             for n, c in enumerate(["I", "II", "III", "IV", "V", "VI", "VII", "VIII"])],
        )  # fmt: skip
        area_ids = list(session.execute(text("SELECT id FROM area ORDER BY id")).scalars())
        task_rows = []
        for n in range(tasks):
            if n < 20:
                due, kind, rec = TASK_T7, "date", None
            elif n < 29:
                due, kind, rec = None, "recurring", "monthly"
            elif n < 33:
                due, kind, rec = None, "external", None
            else:
                due, kind, rec = date(2024, 12, 31) - timedelta(days=7 * (n % 9)), "date", None
            task_rows.append(
                {"plan_id": plan_id, "area_id": area_ids[n % 8], "ref": f"T.{n}", "position": n,
                 "title": f"Nhiệm vụ {n}", "schedule": "", "rule_kind": kind, "due_date": due,
                 "recurrence": rec, "needs_coordinator": kind == "external",
                 "expected_output": "", "lead_text": "", "coordinating_text": "",
                 "unresolved": ""}
            )  # fmt: skip
        bulk(session, Task, task_rows)
        task_ids = list(session.execute(text("SELECT id FROM task ORDER BY id")).scalars())
        agency_ids = list(session.execute(text("SELECT id FROM agency ORDER BY id")).scalars())
        assignments, leads = [], []
        for task_id in task_ids:
            for agency_id in agency_ids:
                role = "lead" if (task_id + agency_id) % 2 else "coordinate"
                assignments.append(
                    {"task_id": task_id, "agency_id": agency_id, "role": role, "annotation": ""}
                )
                if role == "lead":
                    leads.append((task_id, agency_id))
        bulk(session, Assignment, assignments)
        reported = rnd.sample(leads, len(leads) // 3)
        bulk(
            session,
            StatusReport,
            [
                {"receipt": f"R{n}", "task_id": t, "agency_id": a, "version": 1, "is_latest": True,
                 "status": rnd.choice(["in_progress", "done", "blocked"]), "result": "",
                 "difficulties": "", "submitted_at": datetime(2024, 9, 16, 3, tzinfo=UTC)}
                for n, (t, a) in enumerate(reported)
            ],
        )  # fmt: skip
        rounds = [
            ("BC-Q3", ROUND_DEADLINE, {"tasks": "*", "roles": ["lead"]}, None, date(2024, 9, 15)),
            ("KH-SO", ROUND_DEADLINE, {"kinds": ["department", "district"]}, None, None),
            ("TTHC", date(2024, 7, 31), {"agencies": [f"A{i:05d}" for i in range(40)]},
             "monthly", date(2024, 7, 1)),
        ]  # fmt: skip
        session.execute(
            insert(ReportingRound),
            [
                {"plan_id": plan_id, "code": code, "title": code, "ask": "", "deadline": d,
                 "audience": json.dumps(aud), "recurrence": rec, "opens_on": opens,
                 "status": "open", "created_at": now}
                for code, d, aud, rec, opens in rounds
            ],
        )  # fmt: skip
        bulk(
            session,
            Contact,
            [
                {"channel": "telegram", "user_id": str(100000 + a), "chat_id": str(100000 + a),
                 "display_name": "", "agency_id": a, "role": "focal", "active": True,
                 "digest_muted": False, "created_at": now}
                for a in agency_ids
            ],
        )  # fmt: skip
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return {"agencies": len(agency_ids), "tasks": len(task_ids), "assignments": len(assignments)}


def measure(engine, label: str) -> float:
    clock = FixedClock(datetime(2024, 9, 25, 1, 30, tzinfo=UTC))  # 08:30 in Hà Nội
    ctx = Scheduling(engine, clock)
    calendar = ctx.calendar()
    times = []
    for _ in range(3):
        started = time.perf_counter()
        with Session(engine) as session:
            due = obligations_due(session, ctx, TODAY, calendar)
        times.append(time.perf_counter() - started)
    pairs = sum(max(1, len(o.task_ids)) for o, _ in due)
    best = min(times)
    print(
        f"{label}: what is due now — {len(due)} obligations ({pairs} agency×task pairs) "
        f"in {best:.3f} s (best of 3; runs {', '.join(f'{t:.3f}' for t in times)})"
    )
    started = time.perf_counter()
    result = sweep(ctx)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = sweep(ctx)
    second = time.perf_counter() - started
    print(
        f"{label}: full sweep wrote {result.written} reminders in {first:.2f} s; "
        f"the next run wrote {again.written} in {second:.2f} s"
    )
    return best


def run_sqlite(agencies: int, tasks: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        upgrade(engine)
        started = time.perf_counter()
        counts = build(engine, agencies, tasks)
        print(f"SQLite: built {counts} in {time.perf_counter() - started:.1f} s")
        best = measure(engine, "SQLite")
        engine.dispose()
        return best


def run_postgres(url: str, agencies: int, tasks: int) -> float:
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    name = f"parbot_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(url.rsplit("/", 1)[0] + f"/{name}")
        upgrade(engine)
        started = time.perf_counter()
        counts = build(engine, agencies, tasks)
        print(f"PostgreSQL: built {counts} in {time.perf_counter() - started:.1f} s")
        best = measure(engine, "PostgreSQL")
        engine.dispose()
        return best
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=5000)
    parser.add_argument("--tasks", type=int, default=70)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results = {"SQLite": run_sqlite(args.agencies, args.tasks)}
    if not args.no_postgres:
        url = os.environ.get(
            "PARBOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        )
        results["PostgreSQL"] = run_postgres(url, args.agencies, args.tasks)
    ok = all(t <= 1.0 for t in results.values())
    summary = ", ".join(f"{k} {v:.3f} s" for k, v in results.items())
    print(f"what is due now over {args.agencies * args.tasks:,} assignments: {summary} "
          f"(target ≤ 1 s: {'met' if ok else 'NOT met'})")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
