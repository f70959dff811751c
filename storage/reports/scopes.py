"""What /tonghop offers to choose from: plans, a plan's rounds and areas.

`core.flows.compiled_report.ReportScopes` on the update's session. A round or an area is
looked up in the plan the user picked, or in the plan imported last when there is one plan.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from core.auth import Seat
from core.flows.compiled_report import ScopeChoice
from storage.reports.seats import seat_of
from storage.tables.shared import Area, Plan, ReportingRound


class SqlReportScopes:
    def __init__(self, session: Session) -> None:
        self.session = session

    def plans(self) -> list[ScopeChoice]:
        rows = self.session.execute(
            select(col(Plan.code), col(Plan.title)).order_by(col(Plan.year).desc(), col(Plan.code))
        ).all()
        return [ScopeChoice(str(code), str(title)) for code, title in rows]

    def _plan_id(self, plan_code: str | None) -> int | None:
        query = select(col(Plan.id))
        if plan_code:
            query = query.where(col(Plan.code) == plan_code)
        else:
            query = query.order_by(col(Plan.imported_at).desc())
        return self.session.execute(query.limit(1)).scalar_one_or_none()

    def rounds(self, plan_code: str | None) -> list[ScopeChoice]:
        rows = self.session.execute(
            select(col(ReportingRound.code), col(ReportingRound.title))
            .where(col(ReportingRound.plan_id) == self._plan_id(plan_code))
            .order_by(col(ReportingRound.deadline), col(ReportingRound.code))
        ).all()
        return [ScopeChoice(str(code), str(title)) for code, title in rows]

    def areas(self, plan_code: str | None) -> list[ScopeChoice]:
        rows = self.session.execute(
            select(col(Area.code), col(Area.title))
            .where(col(Area.plan_id) == self._plan_id(plan_code))
            .order_by(col(Area.position))
        ).all()
        return [ScopeChoice(str(code), str(title)) for code, title in rows]

    def seat(self, agency_id: int | None, report_issuer: str) -> Seat:
        return seat_of(self.session, agency_id, report_issuer)
