"""Loading a province's seed folder: agencies, group phrases, the plan and its rounds.

A seed folder is data only (CSV, JSON and the plan document); nothing about a province or a
year is code. Loading twice changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.agencies import AgencyImportSummary, import_agencies, import_groups
from storage.db import transaction
from storage.importers import read_plan
from storage.plans import ImportSummary, PlanMeta, save_plan
from storage.tables.shared import Plan, ReportingRound


@dataclass
class SeedSummary:
    agencies: AgencyImportSummary
    plan: ImportSummary
    rounds: int


def plan_meta(folder: Path) -> tuple[PlanMeta, Path]:
    info = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    meta = PlanMeta(
        code=info["code"],
        title=info["title"],
        year=int(info["year"]),
        issued_on=date.fromisoformat(info["issued_on"]) if info.get("issued_on") else None,
        issuer=info.get("issuer", ""),
        source=info.get("source", ""),
        number=str(info.get("number") or ""),
        symbol=info.get("symbol", ""),
    )
    return meta, folder / info["source"]


def load_rounds(session: Session, folder: Path, plan: Plan) -> int:
    path = folder / "rounds.json"
    if not path.exists():
        return 0
    rounds = json.loads(path.read_text(encoding="utf-8"))
    for item in rounds:
        row = session.exec(
            select(ReportingRound).where(ReportingRound.code == item["code"])
        ).first() or ReportingRound(code=item["code"], title="", deadline=date.today())
        row.plan_id = plan.id
        row.title = item["title"]
        row.ask = item.get("ask", "")
        row.deadline = date.fromisoformat(item["deadline"])
        row.opens_on = date.fromisoformat(item["opens"]) if item.get("opens") else None
        row.recurrence = item.get("recurrence")
        row.audience = json.dumps(item.get("audience", {}), ensure_ascii=False)
        row.asks = item.get("asks", "status")  # "document": each agency sends a document
        session.add(row)
    session.flush()
    return len(rounds)


def load_seed(engine: Engine, folder: Path) -> SeedSummary:
    """Agencies, groups, the plan and its rounds from `folder`, in one transaction."""
    with transaction(engine) as session:
        agencies = import_agencies(session, folder / "agencies.csv")
        import_groups(session, folder / "groups.csv")
        meta, document = plan_meta(folder)
        summary = save_plan(session, meta, read_plan(document))
        plan = session.exec(select(Plan).where(Plan.code == meta.code)).one()
        rounds = load_rounds(session, folder, plan)
    return SeedSummary(agencies, summary, rounds)
