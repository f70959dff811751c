"""The compiled report's data, as plain values that every output (chat, xlsx, docx, chart,
JSON, zip) reads the same way — so their counts cannot drift apart.

`ReportData` is what storage loads for one scope (a plan, optionally narrowed to a round, an
area, a kind of agency or one agency, as of a date); `core.evaluation.evaluate` turns it into
a `CompiledReport`. Nothing here knows about databases or file formats.

Who may see what is decided here too (`scope_for`, with the rule of `core.auth.report_reach`),
not in chat handlers: coordinators, admins and leaders of the provincial bodies that direct
the plan see the whole plan, other leaders their agency and the agencies under it, a focal
point only their own agency's part, anyone else nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from core.auth import Refusal, Seat, report_reach
from core.round_documents import DocumentRoundData, DocumentRow, DocumentTally


class Verdict(StrEnum):
    """The five words officials use for a task's state (labels live in a template)."""

    DONE_ON_TIME = "done_on_time"  # Hoàn thành đúng hạn
    DONE_LATE = "done_late"  # Hoàn thành quá hạn
    IN_PROGRESS = "in_progress"  # Đang thực hiện trong hạn
    OVERDUE = "overdue"  # Quá hạn chưa hoàn thành
    NOT_REPORTED = "not_reported"  # Chưa báo cáo


VERDICTS: tuple[Verdict, ...] = tuple(Verdict)
REVIEW_KEYS = ("pending", "accepted", "returned", "done_pending")  # CompiledReport.review_tally


@dataclass(frozen=True, slots=True)
class PlanInfo:
    id: int
    code: str
    title: str
    year: int
    issuer: str
    issued_on: date | None = None
    number: str = ""  # "1234" of "Kế hoạch số 1234/KH-UBND" ("" when not known)
    symbol: str = ""  # "KH-UBND"


@dataclass(frozen=True, slots=True)
class RoundInfo:
    id: int
    code: str
    title: str
    deadline: date


@dataclass(frozen=True, slots=True)
class AreaInfo:
    id: int
    code: str
    title: str
    position: int


@dataclass(frozen=True, slots=True)
class TaskInfo:
    id: int
    ref: str
    area_id: int
    position: int
    title: str
    schedule: str
    rule_kind: str
    due_date: date | None
    expected_output: str
    lead_text: str
    coordinating_text: str


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    id: int
    code: str
    name: str
    kind: str


@dataclass(slots=True)
class EvidenceInfo:
    id: int
    report_id: int
    file_name: str
    size: int


@dataclass(slots=True)
class ReportInfo:
    """One version of one agency's status report on one task (evidence by name only).

    Not frozen, like `EvidenceInfo` and `Evaluation`: a nationwide report builds 350,000 of
    each, and a frozen dataclass's __init__ is several times slower. Treat them as values.
    """

    id: int
    receipt: str
    task_id: int
    agency_id: int
    round_code: str | None
    reporter: str
    version: int
    status: str  # core.model.ReportStatus
    result: str
    figure: str | None
    difficulties: str
    submitted_at: datetime  # aware UTC
    evidence: tuple[EvidenceInfo, ...] = ()
    review: str = "accepted"  # core.review.ReviewStatus: pending | accepted | returned
    review_reason: str = ""  # why it was returned
    answer: str = ""  # the coordinators' answer to its difficulties ("" : none yet)
    answered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExtensionInfo:
    """An approved extension (gia hạn) of one agency's deadline on one task.

    The task keeps its own date (`original`); this pair is judged against `new_date` instead:
    done by then is on time, and every view says "gia hạn đến dd/mm/yyyy".
    """

    task_id: int
    agency_id: int
    original: date | None  # the deadline the agency asked to move
    new_date: date
    decided_by: str = ""  # who approved it (display name)
    decided_at: datetime | None = None
    reason: str = ""  # the agency's reason


@dataclass(frozen=True, slots=True)
class Scope:
    """What a report covers. `None` means "no narrowing" for every filter."""

    plan_code: str | None = None
    round_code: str | None = None
    area_code: str | None = None
    agency_kind: str | None = None
    agency_code: str | None = None  # a focal point's own agency (a leader's: names the report)
    agency_codes: tuple[str, ...] = ()  # when set, only these agencies (a district + communes)
    as_of: date | None = None  # default: today in the configured time zone


@dataclass(frozen=True, slots=True)
class Letterhead:
    """Who issues the Word report and where; read from data and settings, never code."""

    parent_body: str  # "UBND tỉnh Quảng Nam"
    territory: str  # "tỉnh Quảng Nam": dropped from the plan title in the report's title
    body: str  # "Sở Nội vụ"
    body_code: str  # "SNV": the report number's symbol is BC-<code>
    place: str  # "Quảng Nam"
    signer_name: str = ""  # "" leaves a dotted line to write the name on
    signer_title: str = ""  # "GIÁM ĐỐC" or "KT. GIÁM ĐỐC|PHÓ GIÁM ĐỐC" ("|" breaks the line)


@dataclass
class ReportData:
    """Everything one report needs, loaded with a handful of queries.

    `leads` and `coordinators` map a task id to its agency ids in appendix/agency order;
    `reports` holds every version submitted up to the "as of" date, in no particular order.
    """

    plan: PlanInfo
    round: RoundInfo | None
    scope: Scope
    as_of: date
    generated_at: datetime
    areas: list[AreaInfo]
    tasks: list[TaskInfo]
    agencies: dict[int, AgencyInfo]
    leads: dict[int, list[int]]
    coordinators: dict[int, list[int]]
    reports: list[ReportInfo]
    # approved extensions by (task, agency): the pair's deadline moves to `new_date`
    extensions: dict[tuple[int, int], ExtensionInfo] = field(default_factory=dict)
    # rounds that ask each agency for a document (core.round_documents): who sent what
    documents: list[DocumentRoundData] = field(default_factory=list)


@dataclass(slots=True)
class Tally:
    """Counts per verdict; `total` is their sum.

    `overdue_reported` is the part of the overdue count that did report — progress, but not
    "done" by the deadline — so a view can say why a task just reported «Đang thực hiện» is
    counted overdue.
    """

    counts: dict[Verdict, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    overdue_reported: int = 0

    def add(self, verdict: Verdict, n: int = 1, reported: int = 0) -> None:
        self.counts[verdict] += n
        if verdict is Verdict.OVERDUE:
            self.overdue_reported += reported

    def merge(self, other: Tally) -> None:
        for verdict, n in other.counts.items():
            self.counts[verdict] += n
        self.overdue_reported += other.overdue_reported

    @property
    def overdue_unreported(self) -> int:
        return self.counts[Verdict.OVERDUE] - self.overdue_reported

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.counts[Verdict.DONE_ON_TIME] + self.counts[Verdict.DONE_LATE]

    def as_dict(self) -> dict[str, int]:
        return {v.value: self.counts[v] for v in VERDICTS}


@dataclass(slots=True)
class Evaluation:
    """One agency's standing on one task."""

    task_id: int
    agency_id: int
    lead: bool
    verdict: Verdict
    deadline: date | None
    report: ReportInfo | None  # the latest version, if any
    done_at: datetime | None  # when the work was first reported done (current run of "done")
    days_overdue: int
    extension: ExtensionInfo | None = None  # approved: `deadline` is its new date


@dataclass
class TaskResult:
    """One task in scope. `led` says whether the scope holds a lead agency of it: only led
    tasks are counted in the report's figures; a task the scope only coordinates is shown and
    counted apart (`CompiledReport.coordinated_tally`), its verdict then over the coordinating
    agencies in scope."""

    task: TaskInfo
    verdict: Verdict
    deadline: date | None
    leads: list[Evaluation]
    coordinators: list[Evaluation]
    tally: Tally  # over lead agencies (over coordinating ones when the scope leads none)
    reports: int  # agencies (lead or coordinating) with a report
    versions: int  # report versions, all agencies

    @property
    def led(self) -> bool:
        return bool(self.leads)


@dataclass
class AreaResult:
    area: AreaInfo
    tasks: list[TaskResult]
    task_tally: Tally  # led tasks by task verdict
    agency_tally: Tally  # lead (task, agency) pairs by verdict
    coordinated_tally: Tally = field(default_factory=Tally)  # tasks only coordinated in scope
    coordinating_tally: Tally = field(default_factory=Tally)  # coordinating pairs by verdict


@dataclass(frozen=True, slots=True)
class LateAgency:
    agency: AgencyInfo
    overdue: int  # tasks overdue and not done
    not_reported: int  # of which nothing was ever reported
    max_days: int


@dataclass(frozen=True, slots=True)
class DocumentRoundResult:
    """A document round judged as of the report's day: one row per agency asked."""

    round: DocumentRoundData
    rows: list[DocumentRow]
    tally: DocumentTally


@dataclass
class CompiledReport:
    """The evaluation of one scope; every view reads its figures from here.

    Lead and coordinating assignments are kept apart: `task_tally`, `agency_tally`, `by_kind`
    and `late_agencies` count lead assignments only, so an agency's own view and the whole
    plan's view give it the same figures; `coordinated_tally` counts the tasks the scope only
    coordinates and `coordinating_tally` every coordinating (task, agency) pair in scope.
    """

    data: ReportData
    areas: list[AreaResult]
    task_tally: Tally
    agency_tally: Tally
    by_kind: dict[str, Tally]
    late_agencies: list[LateAgency]
    coordinated_tally: Tally = field(default_factory=Tally)
    coordinating_tally: Tally = field(default_factory=Tally)
    # review of the latest reports of lead pairs: {"pending", "accepted", "returned"} → count,
    # and "done_pending": pairs counted done whose report is still chờ duyệt (core.review)
    review_tally: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(REVIEW_KEYS, 0)
    )
    documents: list[DocumentRoundResult] = field(default_factory=list)  # document rounds

    @property
    def tasks(self) -> list[TaskResult]:
        return [t for area in self.areas for t in area.tasks]


class ReportRefused(Exception):
    """The asking user may not see this report; `reason` names which rule refused."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def scope_for(role: str | None, seat: Seat | str | None, requested: Scope) -> Scope:
    """The scope a user may actually get for `requested`, or `ReportRefused`.

    `seat` is where the user sits (`core.auth.Seat`; a bare agency code means a seat with
    nothing under it that directs nothing). The agency filter comes from the rule
    (`core.auth.report_reach`), never from the request: a whole-plan reader gets what they
    asked for; anyone else always gets their own agency's part (and, for a leader, the
    agencies under it), whatever agency they asked for.
    """
    if not isinstance(seat, Seat):
        seat = Seat(seat)
    reach = report_reach(role, seat)
    if isinstance(reach, Refusal):
        raise ReportRefused(reach.reason)
    if reach is None:
        return requested
    codes = reach if len(reach) > 1 else ()
    return replace(requested, agency_code=seat.agency_code, agency_codes=codes)


Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): long builds report how far they are."""
