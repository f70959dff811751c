"""Loading the document rounds of a compiled report: who is asked, what they sent, when.

Same scope as the rest of the report: the plan's document rounds (only the round itself when
the report is for one round, none when it is for a round that asks task statuses), their
audience narrowed by the scope's agency, kind or reach, and the latest version each agency
sent for the round's period up to the "as of" date.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from sqlalchemy import select
from sqlmodel import Session, col

from core.report_model import Scope
from core.round_documents import DocumentRoundData, SubmissionInfo, asks_document
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
