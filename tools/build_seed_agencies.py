"""Rebuild storage/seed/quang-nam-2024/agencies.csv with Quảng Nam's real districts and communes.

Run once by a maintainer, never by parbot itself (the package is not a run-time dependency):

    .venv/bin/pip install "vietnam-provinces==0.4.3"
    .venv/bin/python tools/build_seed_agencies.py

Release 0.4.3 of `vietnam-provinces` still carries the 2024 divisions (18 district-level units,
Nông Sơn included, and 241 communes, wards and townships); later releases carry the units
merged in 2025, so the release is pinned and checked. Provincial bodies (the rows that are not
districts or communes) and the 18 districts are kept as they are in the CSV, with their codes;
each commune gets `X-<official code>` and its district as parent. Names are
the package's, with the division word in lower case after "UBND" ("UBND xã Ch'ơm",
"UBND thị trấn Ái Nghĩa"); a commune whose name is shared by another commune of the province
carries its district in brackets, so a name always finds one agency.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from importlib.metadata import version
from pathlib import Path

RELEASE = "0.4.3"
PROVINCE_CODE = 49  # Tỉnh Quảng Nam
SEED = Path(__file__).resolve().parent.parent / "storage" / "seed" / "quang-nam-2024"
COLUMNS = ["code", "name", "kind", "parent", "aliases", "active"]
DIVISION_WORDS = ("thành phố", "thị xã", "huyện", "phường", "thị trấn", "xã")


def split_division(name: str) -> tuple[str, str]:
    """ "Thị Trấn Ái Nghĩa" → ("thị trấn", "Ái Nghĩa")."""
    lowered = name.lower()
    for word in DIVISION_WORDS:
        if lowered.startswith(word + " "):
            return word, name[len(word) + 1 :].strip()
    raise SystemExit(f"unexpected division name: {name!r}")


def district_code(rows: list[dict[str, str]], district: str) -> str:
    """The existing H-… code of a district, found by its name in the current CSV."""
    for row in rows:
        if row["kind"] == "district" and row["name"].endswith(f" {district}"):
            return row["code"]
    raise SystemExit(f"district {district!r} is not in the current agencies.csv")


def main() -> None:
    if version("vietnam-provinces") != RELEASE:
        raise SystemExit(f"install vietnam-provinces=={RELEASE} (the 2024 divisions)")
    from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

    provinces = json.loads(NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    province = next(p for p in provinces if p["code"] == PROVINCE_CODE)
    path = SEED / "agencies.csv"
    current = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    bodies = [r for r in current if r["kind"] not in ("district", "commune")]

    districts = [r for r in current if r["kind"] == "district"]  # real names already
    communes: list[dict[str, str]] = []
    short_names = Counter(
        split_division(w["name"])[1] for d in province["districts"] for w in d["wards"]
    )
    for district in province["districts"]:
        word, name = split_division(district["name"])
        code = district_code(current, name)
        for ward in district["wards"]:
            ward_word, ward_name = split_division(ward["name"])
            label = f"UBND {ward_word} {ward_name}"
            where = f"{word} {name}"
            full = f"{label}, {where}"
            if short_names[ward_name] > 1:
                label = f"{label} ({where})"
            communes.append(
                {
                    "code": f"X-{ward['code']}",
                    "name": label,
                    "kind": "commune",
                    "parent": code,
                    "aliases": f"{ward_word.capitalize()} {ward_name}|{full}",
                    "active": "1",
                }
            )
    if (len(districts), len(communes)) != (18, 241):
        raise SystemExit(
            f"expected 18 districts and 241 communes, got {len(districts)}, {len(communes)}"
        )
    communes.sort(key=lambda r: r["code"])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(bodies + districts + communes)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    print(f"{path}: {len(bodies)} bodies, {len(districts)} districts, {len(communes)} communes")


if __name__ == "__main__":
    main()
