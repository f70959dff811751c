"""Plausible demo reports, so a newcomer sees a real-looking compiled report at once.

Everything is drawn from one `random.Random(seed)` walking the plan in a fixed order, so the
same seed gives the same reports, results, figures, difficulties and evidence. Demo rows are
recognisable by their receipt prefix (`DEMO-`): seeding again first removes them, then writes
the same set — idempotent. Pairs (task, agency) that already hold a real report are left
alone. Demo reporters are inactive console contacts, so no reminder or digest is ever queued
for them.

Some agencies are drawn as "late" ones: they finish fewer tasks, later, and report less.

What a report says fits its task: each task gets a theme from the words of its title
(inspections, dialogues, training, procedures, legal documents, digital systems…) and the
report's result is drawn from that theme's phrases, with its counts consistent (simplified
procedures no more than those reviewed, attendance a multiple of the meetings held). A task
whose expected output states a target (core.flows.targets) gets a figure the way the chat
stores one ("96,5%", "3"), near its target: done reports mostly reach it, a few fall short
(so the report's "chưa đạt chỉ tiêu" flag can be seen), unfinished ones are below it; its
result then carries no figure of its own that could contradict the figure.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from core.flows.targets import PERCENT, Target, primary_target
from core.model import AssignmentRole, ReportStatus
from core.text import fold
from storage.plans import plan_by_code
from storage.tables.shared import (
    Agency,
    Assignment,
    Contact,
    EvidenceFile,
    Plan,
    ReportingRound,
    StatusReport,
    Task,
)

DEMO_PREFIX = "DEMO-"
DEMO_CHANNEL = "console"
DEMO_USER_PREFIX = "demo:"
PHRASES = Path(__file__).with_name("demo_phrases.json")

# Outcome weights per pair: (done on time, done late, in progress, blocked, not started, none)
DILIGENT = (0.58, 0.08, 0.15, 0.05, 0.02, 0.12)
LATE = (0.12, 0.22, 0.22, 0.10, 0.04, 0.30)
OUTCOMES = ("done", "done_late", "in_progress", "blocked", "not_started", "none")
LATE_AGENCY_SHARE = 0.15
COORDINATOR_REPORT_SHARE = 0.04
SHORT_OF_TARGET = 0.08  # done reports whose figure falls short of the target


class DemoError(LookupError):
    """No plan to fill."""


@dataclass
class DemoSummary:
    plan_code: str
    reports: int = 0
    versions: int = 0
    evidence: int = 0
    contacts: int = 0
    late_agencies: int = 0
    removed: int = 0
    skipped_real: int = 0


def tiny_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF (Helvetica, ASCII-folded text): evidence that opens anywhere."""

    def escape(text: str) -> str:
        ascii_text = fold(text).encode("ascii", "replace").decode("ascii")
        return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    body = "BT /F1 12 Tf 14 TL 60 780 Td " + " ".join(f"({escape(x)}) '" for x in lines) + " ET"
    stream = body.encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _at(day: date, rng: random.Random, tz: tzinfo) -> datetime:
    """A working-hours moment of `day` in `tz`, as the database stores it (aware)."""
    moment = time(rng.randint(7, 16), rng.randint(0, 59), rng.randint(0, 59))
    return datetime.combine(day, moment, tzinfo=tz)


def _between(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randint(0, (end - start).days))


def remove_demo(session: Session) -> int:
    """Delete every demo report (and its evidence); real reports are never touched."""
    demo_ids = select(StatusReport.id).where(StatusReport.receipt.like(f"{DEMO_PREFIX}%"))
    session.execute(delete(EvidenceFile).where(EvidenceFile.report_id.in_(demo_ids)))
    removed = session.execute(
        delete(StatusReport).where(StatusReport.receipt.like(f"{DEMO_PREFIX}%"))
    )
    return int(removed.rowcount or 0)  # type: ignore[attr-defined]


class _Writer:
    """Collects report and evidence rows, then writes them in bulk."""

    def __init__(self, phrases: dict[str, Any], rng: random.Random, tz: tzinfo) -> None:
        self.phrases, self.rng, self.tz = phrases, rng, tz
        self.reports: list[dict[str, Any]] = []
        self.evidence: list[tuple[str, str, bytes, datetime]] = []  # receipt, name, bytes, at
        self.serial = 0

    def fill(self, key: str, theme: str = "general", **values: Any) -> str:
        """A phrase of `key` ("done", "plain", "progress" of a theme, or a shared list) with
        consistent numbers: b ≤ a, attendance p a multiple of the k meetings."""
        rng = self.rng
        a = rng.randint(8, 60)
        k = rng.randint(2, 9)
        values.update(
            n=rng.randint(12, 480),
            a=a,
            b=rng.randint(1, max(1, a // 3)),
            k=k,
            p=k * rng.randint(25, 60),
        )
        themes = self.phrases["themes"]
        options = themes[theme][key] if key in themes[theme] else self.phrases[key]
        return str(rng.choice(options)).format(**values)

    def figure(self, target: Target | None, status: str) -> str | None:
        """The achieved figure of a report, as the chat stores it, or None."""
        if target is None or status == ReportStatus.NOT_STARTED.value:
            return None
        rng = self.rng
        done = status == ReportStatus.DONE.value
        if not done and rng.random() < 0.5:
            return None  # the chat lets a focal point skip the figure
        value = target.value
        reached = done and rng.random() >= SHORT_OF_TARGET
        if target.kind == PERCENT:
            if reached:
                low = value + (0.1 if target.op == ">" else 0.0)
                high = min(100.0, value + 12)
            else:
                low, high = value * 0.6, value - 0.5
            number = round(rng.uniform(min(low, 100.0), min(max(low, high), 100.0)), 1)
            if not reached:
                number = min(number, value - 0.5)
            return f"{number:g}".replace(".", ",") + "%"
        whole = int(value)
        if reached:
            first = whole + (1 if target.op == ">" else 0)
            return str(rng.randint(first, first + max(1, whole // 4)))
        return str(rng.randint(whole // 2, whole - 1)) if whole > 1 else None

    def theme(self, task: Task) -> str:
        """The phrase theme of a task: the first whose words its title holds, else its
        expected output's, else "general"."""
        themes = self.phrases["themes"]
        for text in (task.title, task.expected_output or ""):
            folded = fold(text)
            for name, theme in themes.items():
                if any(re.search(rf"\b{re.escape(w)}\b", folded) for w in theme["match"]):
                    return str(name)
        return "general"

    def add(
        self,
        task: Task,
        agency: Agency,
        contact_id: int,
        round_id: int | None,
        versions: list[tuple[str, date]],
    ) -> None:
        """One pair's reports: `versions` of (status, local day), oldest first."""
        rng = self.rng
        target = primary_target(task.expected_output)
        theme = self.theme(task)
        for number, (status, day) in enumerate(versions, start=1):
            self.serial += 1
            receipt = f"{DEMO_PREFIX}{self.serial:07d}"
            values = {
                "code": agency.code,
                # a document's symbol: the body's own, "UBND" for a people's committee
                "sym": "UBND" if agency.kind in ("district", "commune") else agency.code,
                "day": day.strftime("%d/%m/%Y"),
                "ref": task.ref,
            }
            key = {"done": "plain" if target else "done", "not_started": "not_started"}.get(
                status, "progress"
            )
            difficulties = ""
            if status == ReportStatus.BLOCKED.value or (status != "done" and rng.random() < 0.4):
                difficulties = self.fill("difficulties")
            at = _at(day, rng, self.tz)
            self.reports.append(
                {
                    "receipt": receipt,
                    "task_id": task.id,
                    "agency_id": agency.id,
                    "round_id": round_id,
                    "reporter_id": contact_id,
                    "version": number,
                    "is_latest": number == len(versions),
                    "status": status,
                    "result": self.fill(key, theme, **values),
                    "figure": self.figure(target, status),
                    "difficulties": difficulties,
                    "submitted_at": at,
                }
            )
            if status == "done" and rng.random() < 0.75:
                for _ in range(rng.choice((1, 1, 2))):
                    name = self.fill("evidence", **values)
                    lines = [f"{task.ref} - {agency.name}", name, day.strftime("%d/%m/%Y")]
                    self.evidence.append((receipt, name, tiny_pdf(lines), at))


def _versions(
    outcome: str, rng: random.Random, opens: date, deadline: date
) -> list[tuple[str, date]]:
    """Report versions for a drawn outcome, between the plan's start and after its deadline."""
    if outcome == "none":
        return []
    early = _between(rng, opens + timedelta(days=7), deadline - timedelta(days=45))
    if outcome == "done":
        done_day = _between(rng, opens + timedelta(days=20), deadline)
    elif outcome == "done_late":
        done_day = deadline + timedelta(days=rng.randint(3, 75))
    else:
        status = "in_progress" if outcome == "in_progress" else outcome
        versions = [(status, early)]
        if rng.random() < 0.25:
            versions.append((status, _between(rng, early, deadline - timedelta(days=5))))
        return versions
    if rng.random() < 0.35 and early < done_day:
        return [("in_progress", early), ("done", done_day)]
    return [("done", done_day)]


def _contacts(
    session: Session, agencies: list[Agency], phrases: dict[str, Any], rng: random.Random
) -> tuple[dict[int, int], int]:
    """One inactive demo reporter per agency (created once, renamed deterministically)."""
    existing = {
        c.user_id: c
        for c in session.execute(
            select(Contact).where(
                Contact.channel == DEMO_CHANNEL,
                Contact.user_id.like(f"{DEMO_USER_PREFIX}%"),
            )
        ).scalars()
    }
    created = 0
    ids: dict[int, int] = {}
    for agency in agencies:
        name = " ".join(
            (
                rng.choice(phrases["family"]),
                rng.choice(phrases["middle"]),
                rng.choice(phrases["given"]),
            )
        )
        user_id = f"{DEMO_USER_PREFIX}{agency.code}"
        contact = existing.get(user_id)
        if contact is None:
            contact = Contact(
                channel=DEMO_CHANNEL,
                user_id=user_id,
                chat_id=user_id,
                role="focal",
                agency_id=agency.id,
                active=False,
            )
            session.add(contact)
            created += 1
        contact.display_name = name
        contact.agency_id = agency.id
        contact.active = False
        existing[user_id] = contact
    session.flush()
    for agency in agencies:
        ids[agency.id] = existing[f"{DEMO_USER_PREFIX}{agency.code}"].id
    return ids, created


def seed_demo(
    session: Session, tz: tzinfo, plan_code: str | None = None, seed: int = 2024
) -> DemoSummary:
    """Replace the demo reports of `plan_code` (default: the latest plan) with a fresh set."""
    plan: Plan | None = plan_by_code(session, plan_code)
    if plan is None:
        raise DemoError(plan_code or "")
    summary = DemoSummary(plan.code)
    summary.removed = remove_demo(session)
    session.flush()

    phrases = json.loads(PHRASES.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    year_end = date(plan.year, 12, 31)
    opens = plan.issued_on or date(plan.year, 1, 1)

    tasks = list(
        session.execute(
            select(Task).where(Task.plan_id == plan.id).order_by(Task.position)
        ).scalars()
    )
    pairs = session.execute(
        select(Assignment.task_id, Assignment.agency_id, Assignment.role)
        .join(Task, Task.id == Assignment.task_id)
        .where(Task.plan_id == plan.id)
        .order_by(Task.position, Assignment.agency_id, Assignment.role)
    ).all()
    real = set(
        session.execute(
            select(StatusReport.task_id, StatusReport.agency_id)
            .join(Task, Task.id == StatusReport.task_id)
            .where(Task.plan_id == plan.id)
            .distinct()
        ).all()
    )
    agency_ids = sorted({a for _, a, _ in pairs})
    agencies = {
        a.id: a
        for a in session.execute(
            select(Agency).where(Agency.id.in_(agency_ids)).order_by(Agency.code)
        ).scalars()
    }
    ordered = sorted(agencies.values(), key=lambda a: a.code)
    contact_ids, summary.contacts = _contacts(session, ordered, phrases, rng)
    late = {a.id for a in ordered if rng.random() < LATE_AGENCY_SHARE}
    summary.late_agencies = len(late)

    writer = _Writer(phrases, rng, tz)
    by_id = {t.id: t for t in tasks}
    # an agency both leading and coordinating a task answers for it as lead
    lead_pairs = {(t, a) for t, a, role in pairs if role == AssignmentRole.LEAD.value}
    seen: set[tuple[int, int]] = set()
    for task_id, agency_id, _role in pairs:
        if (task_id, agency_id) in seen:
            continue
        seen.add((task_id, agency_id))
        if (task_id, agency_id) in real:
            summary.skipped_real += 1
            continue
        is_lead = (task_id, agency_id) in lead_pairs
        if not is_lead and rng.random() >= COORDINATOR_REPORT_SHARE:
            continue
        task = by_id[task_id]
        weights = LATE if agency_id in late else DILIGENT
        outcome = rng.choices(OUTCOMES, weights=weights)[0]
        if task.due_date is None and outcome == "done_late":
            outcome = "in_progress"  # undated tasks cannot be late
        deadline = task.due_date or year_end
        versions = _versions(outcome, rng, opens, deadline)
        if versions:
            writer.add(task, agencies[agency_id], contact_ids[agency_id], None, versions)

    _round_reports(session, plan, tasks, pairs, agencies, contact_ids, late, real, writer)

    if writer.reports:
        session.execute(insert(StatusReport), writer.reports)
    receipts = dict(
        session.execute(
            select(StatusReport.receipt, StatusReport.id).where(
                StatusReport.receipt.like(f"{DEMO_PREFIX}%")
            )
        ).all()
    )
    evidence_rows = [
        {
            "report_id": receipts[receipt],
            "file_name": name,
            "mime_type": "application/pdf",
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "content": content,
            "uploaded_at": at,
        }
        for receipt, name, content, at in writer.evidence
    ]
    if evidence_rows:
        session.execute(insert(EvidenceFile), evidence_rows)
    session.flush()
    summary.versions = len(writer.reports)
    summary.reports = sum(1 for r in writer.reports if r["is_latest"])
    summary.evidence = len(evidence_rows)
    return summary


def _round_reports(
    session: Session,
    plan: Plan,
    tasks: list[Task],
    pairs: Sequence[Any],
    agencies: dict[int, Agency],
    contact_ids: dict[int, int],
    late: set[int],
    real: set[Any],
    writer: _Writer,
) -> None:
    """Answers to the plan's reporting rounds: each audience agency on its first lead task."""
    rounds = session.execute(
        select(ReportingRound)
        .where(ReportingRound.plan_id == plan.id)
        .order_by(ReportingRound.code)
    ).scalars()
    by_id = {t.id: t for t in tasks}
    for round_ in rounds:
        audience = json.loads(round_.audience or "{}")
        codes, kinds = set(audience.get("agencies") or []), set(audience.get("kinds") or [])
        refs = set(audience.get("tasks") or [])
        chosen: dict[int, int] = {}
        for task_id, agency_id, role in pairs:
            agency = agencies[agency_id]
            if role != AssignmentRole.LEAD.value or agency_id in chosen:
                continue
            if not (agency.code in codes or agency.kind in kinds):
                continue
            if refs and by_id[task_id].ref not in refs:
                continue
            if (task_id, agency_id) not in real:
                chosen[agency_id] = task_id
        opens = round_.opens_on or round_.deadline - timedelta(days=10)
        for agency_id, task_id in sorted(chosen.items(), key=lambda kv: agencies[kv[0]].code):
            rng = writer.rng
            if agency_id in late and rng.random() < 0.5:
                day = round_.deadline + timedelta(days=rng.randint(1, 12))
            else:
                day = _between(rng, opens, round_.deadline)
            writer.add(
                by_id[task_id],
                agencies[agency_id],
                contact_ids[agency_id],
                round_.id,
                [("done", day)],
            )


def count_demo(session: Session) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(StatusReport)
            .where(StatusReport.receipt.like(f"{DEMO_PREFIX}%"))
        ).scalar_one()
    )
