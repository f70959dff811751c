"""Nationwide import: 5,000 agencies, 70 tasks, ~350,000 assignments on SQLite.

Generates the data set (an agency CSV and a plan CSV whose cells use the same group phrases
as the real plan), then times `parbot plan import` in a child process and reports its wall
time and peak resident memory. Targets: ≤ 30 s and ≤ 1 GB.

    .venv/bin/python bench/import_scale.py [--agencies 5000] [--tasks 70]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARBOT = [sys.executable, "-m", "bot.cli"]
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]
GROUP_CELLS = [
    "Các sở, ban, ngành, UBND cấp huyện, UBND cấp xã",
    "Các cơ quan, đơn vị, địa phương",
    "Các Sở, ban, ngành, UBND cấp huyện, cấp xã; đơn vị sự nghiệp công lập",
    "Các cơ quan, đơn vị, địa phương; Các cơ quan ngành dọc cấp tỉnh; đơn vị sự nghiệp công lập",
]


def write_agencies(path: Path, total: int) -> None:
    """About 34 provinces' worth: departments, districts, communes, vertical and public units."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["code", "name", "kind", "parent", "aliases", "active"])
        mix = [("department", 0.14), ("district", 0.14), ("vertical", 0.03), ("public_unit", 0.03)]
        written = 0
        for kind, share in mix:
            for i in range(int(total * share)):
                out.writerow(
                    [f"{kind[:3].upper()}-{i:05d}", f"Cơ quan {kind} số {i}", kind, "", "", 1]
                )
                written += 1
        for i in range(total - written):
            out.writerow([f"XA-{i:05d}", f"UBND xã số {i:05d}", "commune", "", "", 1])


def write_plan(path: Path, tasks: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            ["STT", "Nhiệm vụ", "Tiến độ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Sản phẩm"]
        )
        per_area = -(-tasks // len(ROMAN))
        made = 0
        for area in ROMAN:
            out.writerow([area, f"LĨNH VỰC {area}", "", "", "", ""])
            for n in range(1, per_area + 1):
                if made == tasks:
                    break
                lead = GROUP_CELLS[made % len(GROUP_CELLS)]
                out.writerow(
                    [
                        str(n),
                        f"Nhiệm vụ {area}.{n} triển khai trên toàn quốc",
                        "Trong năm 2024" if n % 3 else "Thường xuyên",
                        lead,
                        "Cơ quan department số 1 theo dõi, đôn đốc",
                        "Hoàn thành 100% chỉ tiêu",
                    ]
                )
                made += 1


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of one parbot command in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(PARBOT + args, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"parbot {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    peak_kb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    return wall, peak_kb / 1024, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agencies", type=int, default=5000)
    parser.add_argument("--tasks", type=int, default=70)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        env = dict(os.environ, PARBOT_DATABASE_URL=f"sqlite:///{tmp / 'nation.db'}")
        write_agencies(tmp / "agencies.csv", options.agencies)
        write_plan(tmp / "plan.csv", options.tasks)
        run(["db", "upgrade"], env)
        run(["agency", "import", str(tmp / "agencies.csv")], env)
        run(["agency", "groups", str(ROOT / "storage/seed/quang-nam-2024/groups.csv")], env)
        wall, peak, out = run(
            ["plan", "import", str(tmp / "plan.csv"), "--code", "NATION-2024", "--year", "2024"],
            env,
        )
        print(out.strip().splitlines()[0])
        print(f"import wall time: {wall:.1f} s (target ≤ 30 s)")
        print(f"import peak memory: {peak:.0f} MB (target ≤ 1024 MB)")
        wall2, _, out2 = run(
            ["plan", "import", str(tmp / "plan.csv"), "--code", "NATION-2024", "--year", "2024"],
            env,
        )
        print(f"re-import (nothing changes) wall time: {wall2:.1f} s")


if __name__ == "__main__":
    main()
