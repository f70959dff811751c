"""The shipped districts and communes carry their real names and parents (no "cấp xã số 005")."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from storage.tables.shared import Agency

SEED = Path(__file__).resolve().parents[2] / "storage" / "seed" / "quang-nam-2024"


def rows() -> list[dict[str, str]]:
    text = (SEED / "agencies.csv").read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_no_numbered_placeholder_name_anywhere_in_the_seed():
    for path in SEED.iterdir():
        if path.suffix in (".csv", ".json", ".txt", ".md"):
            text = path.read_text(encoding="utf-8-sig")
            assert "cấp xã số" not in text, path.name


def test_every_commune_has_a_real_name_and_its_district_as_parent():
    agencies = rows()
    kinds = Counter(r["kind"] for r in agencies)
    assert (kinds["district"], kinds["commune"], len(agencies)) == (18, 241, 291)
    districts = {r["code"]: r["name"] for r in agencies if r["kind"] == "district"}
    communes = [r for r in agencies if r["kind"] == "commune"]
    assert all(r["parent"] in districts for r in communes)
    prefixes = ("UBND xã ", "UBND phường ", "UBND thị trấn ")
    assert all(r["name"].startswith(prefixes) for r in communes)
    # Nông Sơn's six communes, as the 2024 list has them
    nong_son = sorted(r["name"] for r in communes if r["parent"] == "H-NONGSON")
    assert len(nong_son) == 6 and "UBND xã Quế Trung" in nong_son
    assert len({r["name"] for r in agencies}) == len(agencies)  # a name finds one agency
    assert len({r["code"] for r in agencies}) == len(agencies)


def test_seeded_communes_hang_under_their_district(engine):
    with Session(engine) as session:
        by_id = {a.id: a for a in session.execute(select(Agency)).scalars()}
    communes = [a for a in by_id.values() if a.kind == "commune"]
    assert len(communes) == 241
    assert all(by_id[a.parent_id].kind == "district" for a in communes)
    tam_ky = [a.name for a in communes if by_id[a.parent_id].code == "H-TAMKY"]
    assert "UBND phường Tân Thạnh" in tam_ky
