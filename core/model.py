"""Domain vocabulary shared by every layer (VI → EN names in code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class AgencyKind(StrEnum):
    """Kinds of agency that group phrases in a plan ("Các sở, ban, ngành") expand to."""

    DEPARTMENT = "department"  # sở, ban, ngành (cơ quan chuyên môn thuộc UBND tỉnh)
    DISTRICT = "district"  # UBND cấp huyện
    COMMUNE = "commune"  # UBND cấp xã
    VERTICAL = "vertical"  # cơ quan ngành dọc cấp tỉnh
    PUBLIC_UNIT = "public_unit"  # đơn vị sự nghiệp công lập
    OTHER = "other"  # other named bodies: working groups, centres, delegates


class AssignmentRole(StrEnum):
    LEAD = "lead"  # cơ quan chủ trì
    COORDINATE = "coordinate"  # cơ quan phối hợp


class UserRole(StrEnum):
    FOCAL = "focal"  # đầu mối
    COORDINATOR = "coordinator"  # Sở Nội vụ
    LEADER = "leader"  # lãnh đạo
    ADMIN = "admin"


class ReportStatus(StrEnum):
    NOT_STARTED = "not_started"  # Chưa triển khai
    IN_PROGRESS = "in_progress"  # Đang thực hiện
    DONE = "done"  # Hoàn thành
    BLOCKED = "blocked"  # Gặp vướng mắc


class RuleKind(StrEnum):
    DATE = "date"  # a fixed deadline
    RECURRING = "recurring"  # "Thường xuyên": a periodic check-in, no single deadline
    EXTERNAL = "external"  # set later by a coordinator ("Theo kế hoạch của Bộ Nội vụ")
    UNKNOWN = "unknown"  # text we could not read: kept raw and flagged, never guessed


@dataclass(frozen=True)
class DeadlineRule:
    """What a schedule cell ("Tiến độ") means for reminders."""

    kind: RuleKind
    raw: str
    due: date | None = None
    recurrence: str | None = None  # "monthly", "quarterly", …

    @property
    def needs_coordinator(self) -> bool:
        """True when a person must set the date: external or unreadable schedules."""
        return self.kind in (RuleKind.EXTERNAL, RuleKind.UNKNOWN)


@dataclass
class AgencyRef:
    """One agency named by a lead/coordinating cell, with what the cell said of its role."""

    code: str
    annotation: str = ""


@dataclass
class CellResolution:
    """A lead or coordinating cell turned into agencies; unresolved fragments are kept."""

    agencies: list[AgencyRef] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)

    def codes(self) -> list[str]:
        return [a.code for a in self.agencies]


@dataclass
class TaskDraft:
    """A leaf task of a plan's appendix as read from a document, before it is stored."""

    area: str  # roman numeral I … VIII
    ref: str  # "III.2.2.a"
    title: str
    schedule: str
    lead_text: str
    coordinating_text: str
    expected_output: str
    source_row: int  # 1-based row in the source, for error messages
    group_ref: str | None = None
    group_title: str | None = None


@dataclass
class AreaDraft:
    code: str  # "I"
    title: str


@dataclass
class PlanDraft:
    """Everything an importer read from one document."""

    areas: list[AreaDraft] = field(default_factory=list)
    tasks: list[TaskDraft] = field(default_factory=list)


@dataclass(frozen=True)
class Agency:
    """An agency as the domain sees it: a stable code, never a database id."""

    code: str
    name: str
    kind: AgencyKind
    parent: str | None = None  # parent agency code
    aliases: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class Assignment:
    """Task × agency × role, with what the plan's cell said of the role."""

    agency: str  # agency code
    role: AssignmentRole
    annotation: str = ""


@dataclass(frozen=True)
class Task:
    area: str
    ref: str
    title: str
    schedule: str
    rule: DeadlineRule
    expected_output: str
    lead_text: str
    coordinating_text: str
    assignments: tuple[Assignment, ...] = ()

    def agencies(self, role: AssignmentRole) -> list[str]:
        return [a.agency for a in self.assignments if a.role is role]


@dataclass(frozen=True)
class Area:
    code: str  # I … VIII
    title: str


@dataclass(frozen=True)
class Plan:
    code: str
    title: str
    year: int
    issued_on: date | None
    issuer: str
    areas: tuple[Area, ...] = ()
    tasks: tuple[Task, ...] = ()
