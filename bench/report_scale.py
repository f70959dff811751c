"""Benchmark of the compiled report at nationwide and provincial scale; prints its figures.

    .venv/bin/python bench/report_scale.py [--agencies 5000] [--tasks 70] [--province 300]

1. Builds a temporary SQLite database (schema through the real migrations) with a plan of
   `--tasks` tasks in 8 areas, `--agencies` agencies, every agency assigned every task
   (≈ 350,000 assignments, ~10 % coordinating) and one status report each (a fifth with an
   evidence file), with bulk inserts.
2. In a fresh child process (so its peak memory is the report's alone, like `parbot report`):
   load + evaluate + write the workbook; prints seconds and peak RSS (getrusage), and with
   `--tracemalloc` also the peak of Python allocations (slower: a separate run).
3. The same for a province (`--province` agencies): load + evaluate + write the Word report.

Targets (issue 5): workbook ≤ 20 s and ≤ 1 GB peak; province Word report ≤ 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("department", "district", "commune", "vertical", "public_unit", "other")
STATUSES = ("done", "done", "done", "in_progress", "in_progress", "blocked", "not_started")
RESULTS = (
    "Đã ban hành Kế hoạch số {n}/KH-UBND ngày 12/3/2024 triển khai nhiệm vụ tại đơn vị.",
    "Đang triển khai; đã hoàn thành khoảng {n}% khối lượng công việc được giao.",
    "Đã tổ chức {n} hội nghị quán triệt, tập huấn cho cán bộ, công chức.",
)
DIFFICULTIES = ("", "", "", "Nhân lực còn mỏng, kiêm nhiệm.", "Kinh phí còn hạn chế.")


def build_database(path: Path, agencies: int, tasks: int, seed: int = 1) -> dict[str, int]:
    """A migrated database filled with bulk inserts; returns the row counts."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    rng = random.Random(seed)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    now = "2025-01-15 03:00:00.000000"
    with engine.begin() as conn:
        run = conn.exec_driver_sql
        run(
            "INSERT INTO plan (id, code, title, year, issued_on, issuer, source, imported_at) "
            "VALUES (1, 'BENCH', 'Kế hoạch cải thiện Chỉ số cải cách hành chính năm 2024', "
            "2024, '2024-06-26', 'UBND tỉnh Thử nghiệm', '', ?)",
            (now,),
        )
        run(
            "INSERT INTO area (id, plan_id, code, title, position) VALUES (?, 1, ?, ?, ?)",
            [
                (i + 1, code, f"LĨNH VỰC {code}", i)
                for i, code in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII"))
            ],
        )
        run(
            "INSERT INTO task (id, plan_id, area_id, ref, position, title, schedule, rule_kind, "
            "due_date, recurrence, needs_coordinator, expected_output, lead_text, "
            "coordinating_text, unresolved) VALUES (?, 1, ?, ?, ?, ?, 'Trong năm 2024', "
            "'date', '2024-12-31', NULL, 0, 'Báo cáo kết quả', 'Các cơ quan', '', '[]')",
            [
                (
                    t + 1,
                    t % 8 + 1,
                    f"{('I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII')[t % 8]}.{t + 1}",
                    t,
                    f"Nhiệm vụ thử nghiệm số {t + 1} về cải cách hành chính",
                )
                for t in range(tasks)
            ],
        )
        run(
            "INSERT INTO agency (id, code, name, kind, parent_id, aliases, active) "
            "VALUES (?, ?, ?, ?, NULL, '', 1)",
            [
                (
                    a + 1,
                    f"A{a + 1:05d}",
                    f"Cơ quan thử nghiệm số {a + 1}",
                    KINDS[0] if a % 7 == 0 else KINDS[1] if a % 7 == 1 else KINDS[2 + a % 4],
                )
                for a in range(agencies)
            ],
        )
        run(
            "INSERT INTO contact (id, channel, user_id, chat_id, display_name, agency_id, role, "
            "active, digest_muted, created_at) VALUES (?, 'console', ?, ?, ?, ?, 'focal', 0, 0, ?)",
            [
                (a + 1, f"bench:{a + 1}", f"bench:{a + 1}", f"Cán bộ {a + 1}", a + 1, now)
                for a in range(agencies)
            ],
        )
        assignments, reports, evidence = [], [], []
        start = datetime(2024, 7, 1, 2, tzinfo=UTC)
        for t in range(tasks):
            for a in range(agencies):
                role = "coordinate" if (a + t) % 10 == 0 else "lead"
                assignments.append((t + 1, a + 1, role))
                rid = len(reports) + 1
                at = start + timedelta(minutes=rng.randint(0, 300 * 24 * 60))
                reports.append(
                    (
                        rid,
                        f"B{rid:09d}",
                        t + 1,
                        a + 1,
                        a + 1,
                        rng.choice(STATUSES),
                        rng.choice(RESULTS).format(n=rng.randint(1, 99)),
                        f"{rng.randint(1, 100)}%" if rng.random() < 0.5 else None,
                        rng.choice(DIFFICULTIES),
                        at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    )
                )
                if rng.random() < 0.2:
                    evidence.append((rid, f"bao-cao-{t + 1}-{a + 1}.pdf", now))
        run(
            "INSERT INTO assignment (task_id, agency_id, role, annotation) VALUES (?, ?, ?, '')",
            assignments,
        )
        run(
            "INSERT INTO status_report (id, receipt, task_id, agency_id, round_id, reporter_id, "
            "version, is_latest, status, result, figure, difficulties, submitted_at) "
            "VALUES (?, ?, ?, ?, NULL, ?, 1, 1, ?, ?, ?, ?, ?)",
            reports,
        )
        run(
            "INSERT INTO evidence_file (report_id, file_name, mime_type, size, sha256, content, "
            "uploaded_at) VALUES (?, ?, 'application/pdf', 9, 'x', x'255044462d312e340a', ?)",
            evidence,
        )
    engine.dispose()
    return {
        "agencies": agencies,
        "tasks": tasks,
        "assignments": len(assignments),
        "reports": len(reports),
        "evidence": len(evidence),
    }


def count_rows(db: Path) -> dict[str, int]:
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        counts = {
            name: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for name, table in (
                ("agencies", "agency"),
                ("tasks", "task"),
                ("assignments", "assignment"),
                ("reports", "status_report"),
                ("evidence", "evidence_file"),
            )
        }
    engine.dispose()
    return counts


def measure(db: Path, fmt: str, out: Path, traced: bool) -> dict[str, float]:
    """Runs in the child: load + evaluate + write one format; times each part."""
    import tracemalloc
    from zoneinfo import ZoneInfo

    from core.report_model import Scope
    from messages.reports.build import Format, compile_report, write_output
    from storage.db import make_engine, transaction
    from storage.reports.query import letterhead

    if traced:
        tracemalloc.start()
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    engine = make_engine(f"sqlite:///{db}")
    figures: dict[str, float] = {}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_started = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    with transaction(engine) as session:
        report = compile_report(session, Scope(as_of=date(2025, 3, 31)), tz, datetime.now(UTC))
        figures["load_evaluate_s"] = time.perf_counter() - started
        head = letterhead_for(session, report, letterhead)
        written = time.perf_counter()
        write_output(Format(fmt), report, out, tz, head, session)
        figures["write_s"] = time.perf_counter() - written
    figures["total_s"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures["cpu_s"] = usage.ru_utime + usage.ru_stime - cpu_started
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["file_mb"] = out.stat().st_size / 1e6
    figures["reports"] = len(report.data.reports)
    if traced:
        figures["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
    return figures


def letterhead_for(session, report, letterhead):  # type: ignore[no-untyped-def]
    from core.report_model import Letterhead

    return Letterhead(report.data.plan.issuer, "tỉnh Thử nghiệm", "Sở Nội vụ", "SNV", "Thử nghiệm")


def child(db: Path, fmt: str, out: Path, traced: bool) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(db), fmt, str(out)]
        + (["--tracemalloc"] if traced else []),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agencies", type=int, default=5000)
    parser.add_argument("--tasks", type=int, default=70)
    parser.add_argument("--province", type=int, default=300)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the databases here")
    parser.add_argument("--child", nargs=3, metavar=("DB", "FORMAT", "OUT"))
    args = parser.parse_args()
    if args.child:
        db, fmt, out = args.child
        print(json.dumps(measure(Path(db), fmt, Path(out), args.tracemalloc)))
        return

    with tempfile.TemporaryDirectory(prefix="parbot-bench-") as tmp:
        folder = Path(tmp)
        keep = args.keep or folder
        keep.mkdir(parents=True, exist_ok=True)
        for label, agencies, fmt, limit in (
            ("nationwide workbook", args.agencies, "xlsx", 20.0),
            ("province Word report", args.province, "docx", 5.0),
        ):
            db = keep / f"{agencies}x{args.tasks}.db"
            started = time.perf_counter()
            if not db.exists():
                build_database(db, agencies, args.tasks)
            counts = count_rows(db)
            built = time.perf_counter() - started
            print(
                f"{label}: {counts['agencies']:,} agencies, {counts['tasks']} tasks, "
                f"{counts['assignments']:,} assignments, {counts['reports']:,} reports, "
                f"{counts['evidence']:,} evidence files (database built in {built:.1f} s)"
            )
            figures = child(db, fmt, folder / f"out.{fmt}", traced=False)
            verdict = "OK" if figures["total_s"] <= limit else "OVER"
            print(
                f"  load+evaluate {figures['load_evaluate_s']:.1f} s, write {fmt} "
                f"{figures['write_s']:.1f} s, total {figures['total_s']:.1f} s "
                f"(target ≤ {limit:g} s: {verdict}; CPU time {figures['cpu_s']:.1f} s, "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); "
                f"peak RSS {figures['peak_rss_mb']:.0f} MB "
                f"(target ≤ 1024 MB: {'OK' if figures['peak_rss_mb'] <= 1024 else 'OVER'}); "
                f"file {figures['file_mb']:.1f} MB"
            )
            if args.tracemalloc:
                traced = child(db, fmt, folder / f"traced.{fmt}", traced=True)
                print(
                    f"  tracemalloc peak of Python allocations: "
                    f"{traced['tracemalloc_peak_mb']:.0f} MB (run {traced['total_s']:.1f} s)"
                )


if __name__ == "__main__":
    main()
