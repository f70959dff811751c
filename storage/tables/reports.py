"""The stored evaluation of every assignment, so pages read verdicts instead of recompiling.

Compiling a nationwide plan (~350,000 assignments) takes seconds; the dashboard must answer in
a fraction of that. One row per (view, task, agency): `round_key` 0 is the plan-wide view
(task due dates, every report), otherwise a reporting round's id (its deadline, its reports).
Rows are written only by `storage.reports.evaluation_store`, from `core.evaluation`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from storage.tables.shared import utcnow


class AssignmentEvaluation(SQLModel, table=True):
    __tablename__ = "assignment_evaluation"
    __table_args__ = (
        # covering indexes: the overview's GROUP BY and the matrix's paging read no table rows
        Index(
            "ix_assignment_evaluation_tally",
            "round_key",
            "plan_id",
            "task_id",
            "lead",
            "area_id",
            "agency_kind",
            "verdict",
        ),
        Index("ix_assignment_evaluation_agency_id", "round_key", "plan_id", "agency_id"),
        # one pair in every view: what a report's transaction reads and updates
        Index("ix_assignment_evaluation_pair", "task_id", "agency_id"),
        Index(
            "ix_assignment_evaluation_agency",
            "round_key",
            "plan_id",
            "agency_code",
            "agency_id",
            "verdict",
            "area_id",
        ),
    )
    round_key: int = Field(primary_key=True)  # 0: plan-wide; else reporting_round.id
    task_id: int = Field(primary_key=True, foreign_key="task.id")
    agency_id: int = Field(primary_key=True, foreign_key="agency.id")
    plan_id: int = Field(foreign_key="plan.id")
    area_id: int
    agency_code: str = Field(max_length=64)
    agency_kind: str = Field(max_length=32)
    lead: bool
    verdict: str = Field(max_length=16)  # core.report_model.Verdict
    deadline: date | None = None
    # an approved extension (gia hạn): the deadline it replaced; `deadline` is the new date
    extended_from: date | None = None
    days_overdue: int = 0
    report_id: int | None = None  # the latest version counted
    reported_at: datetime | None = None
    done_at: datetime | None = None
    as_of: date
    refreshed_at: datetime = Field(default_factory=utcnow)


class EvaluationGeneration(SQLModel, table=True):
    """Bumped by every refresh of a plan's evaluations: pages cache their sums per generation,
    so an unchanged plan is added up once, not on every request (and every worker agrees)."""

    __tablename__ = "assignment_evaluation_generation"
    plan_id: int = Field(primary_key=True, foreign_key="plan.id")
    generation: int = 0
    refreshed_at: datetime = Field(default_factory=utcnow)


class EvaluationTally(SQLModel, table=True):
    """The stored evaluations of a view already counted: pairs per (task, lead or
    coordinating, kind of agency, verdict, reported or not). *Tổng quan* adds up these few
    hundred rows instead of 350,000 evaluations; every write to `assignment_evaluation`
    moves the counts in the same transaction (`storage.reports.evaluation_store`)."""

    __tablename__ = "assignment_evaluation_tally"
    round_key: int = Field(primary_key=True)
    task_id: int = Field(primary_key=True, foreign_key="task.id")
    lead: bool = Field(primary_key=True)
    agency_kind: str = Field(primary_key=True, max_length=32)
    verdict: str = Field(primary_key=True, max_length=16)
    reported: bool = Field(primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    area_id: int
    pairs: int = 0
