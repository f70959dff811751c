"""Loading the document rounds of a compiled report: who is asked, what they sent, when.

Same scope as the rest of the report: the plan's document rounds (only the round itself when
the report is for one round, none when it is for a round that asks task statuses), their
audience narrowed by the scope's agency, kind or reach, and the latest version each agency
sent for the round's period up to the "as of" date.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import literal, select
from sqlmodel import Session, col

from core.report_model import Scope
from core.round_documents import (
    DocumentRoundData,
    DocumentStatus,
    SubmissionInfo,
    asks_document,
)
from core.rounds import RoundSchedule
from storage.scheduling.rounds import audience_agency_ids
from storage.tables.round_documents import RoundSubmission
from storage.tables.shared import Agency, Contact, Plan, ReportingRound


def _aware(value: datetime) -> datetime:
    from storage.reports.query import _aware as aware  # one reading of stored times

    return aware(value)


def load_document_rounds(
    session: Session,
    plan: Plan,
    scope: Scope,
    round_: ReportingRound | None,
    as_of: date,
    cutoff: datetime,
    tz: tzinfo,
) -> list[DocumentRoundData]:
    if round_ is not None:
        rows = [round_] if asks_document(round_.asks) else []
    else:
        rows = list(
            session.exec(
                select(ReportingRound)
                .where(ReportingRound.plan_id == plan.id, ReportingRound.asks == "document")
                .order_by(col(ReportingRound.deadline), col(ReportingRound.id))
            ).scalars()
        )
    found: list[DocumentRoundData] = []
    for row in rows:
        ids = set(audience_agency_ids(session, row))
        agencies = select(Agency.id, Agency.code, Agency.name).where(col(Agency.id).in_(ids))
        if scope.agency_codes:
            agencies = agencies.where(col(Agency.code).in_(scope.agency_codes))
        elif scope.agency_code:
            agencies = agencies.where(Agency.code == scope.agency_code)
        if scope.agency_kind:
            agencies = agencies.where(Agency.kind == scope.agency_kind)
        asked = [(a.id, a.code, a.name) for a in session.execute(agencies.order_by(Agency.code))]
        deadline = RoundSchedule(row.deadline, row.opens_on, row.recurrence).current(as_of).deadline
        submissions = tuple(
            SubmissionInfo(
                s.id,
                s.receipt,
                s.agency_id,
                s.version,
                s.number,
                s.issued_on,
                s.note,
                s.file_name,
                s.size,
                reporter or "",
                s.status,
                _aware(s.submitted_at),
                s.status_reason or "",
            )
            for s, reporter in session.execute(
                select(RoundSubmission, Contact.display_name)
                .outerjoin(Contact, col(Contact.id) == RoundSubmission.reporter_id)
                .where(
                    RoundSubmission.round_id == row.id,
                    RoundSubmission.period_deadline == deadline,
                    col(RoundSubmission.agency_id).in_([a[0] for a in asked]),
                    RoundSubmission.submitted_at < cutoff,
                )
                .order_by(RoundSubmission.agency_id, col(RoundSubmission.version))
            ).all()
        )
        latest = {s.agency_id: s for s in submissions}  # ordered by version: the last wins
        found.append(
            DocumentRoundData(
                row.code, row.title, row.ask, deadline, tuple(asked), tuple(latest.values())
            )
        )
    return found


def unsent(session: Session, code: str, today: date, scope: Scope) -> list[Any]:
    """Agencies a document round asks that have not sent it for the current period (a returned
    one counts as not sent): rows (id, code, name, 1), like the dashboard's unreported list."""
    row = session.exec(select(ReportingRound).where(ReportingRound.code == code)).scalars().first()
    if row is None or not asks_document(row.asks):
        return []
    deadline = RoundSchedule(row.deadline, row.opens_on, row.recurrence).current(today).deadline
    sent = select(RoundSubmission.agency_id).where(
        RoundSubmission.round_id == row.id,
        RoundSubmission.period_deadline == deadline,
        RoundSubmission.is_latest == True,  # noqa: E712
        RoundSubmission.status != DocumentStatus.RETURNED.value,
    )
    query = select(Agency.id, Agency.code, Agency.name, literal(1)).where(
        col(Agency.id).in_(audience_agency_ids(session, row)), col(Agency.id).not_in(sent)
    )
    if scope.agency_code:
        query = query.where(Agency.code == scope.agency_code)
    if scope.agency_kind:
        query = query.where(Agency.kind == scope.agency_kind)
    return list(session.execute(query.order_by(Agency.code)).all())
