"""Rounds that ask for a document instead of task statuses, and who has sent theirs.

Some rounds of a plan ask each agency of their audience for a document of its own, not for
the state of tasks: Quảng Nam's 2024 plan (section III.1) has six departments *send their own
improvement plan* to Sở Nội vụ before 05/7/2024. Such a round (`asks == "document"`) is
answered by a submission — the file, its number and date of issue, a short note — and covers
no task, so no task report is ever filed under it (`covers_tasks`).

A submission has a review status (submitted → accepted | returned) that a coordinator's review
sets; a returned document counts as not sent. `document_rows` is the one reading of "who sent
what, when, and who has not" that the chat, the workbook, the Word report and JSON all show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum


class RoundAsks(StrEnum):
    STATUS = "status"  # task statuses (the default)
    DOCUMENT = "document"  # one document per agency


class DocumentStatus(StrEnum):
    SUBMITTED = "submitted"  # đã gửi, chờ xem xét
    ACCEPTED = "accepted"  # đạt
    RETURNED = "returned"  # trả lại: counts as not sent


class DocumentState(StrEnum):
    """One agency's standing in a document round (labels live in a template)."""

    ON_TIME = "on_time"
    LATE = "late"
    RETURNED = "returned"
    MISSING = "missing"  # not sent, deadline not passed yet
    OVERDUE = "overdue"  # not sent, deadline passed


DOCUMENT_TYPES = ("docx", "pdf", "doc")  # what a round's document may be


def asks_document(asks: str | None) -> bool:
    return (asks or RoundAsks.STATUS.value) == RoundAsks.DOCUMENT.value


def covers_tasks(asks: str | None) -> bool:
    """Whether task reports may be filed under a round: never under a document round."""
    return not asks_document(asks)


@dataclass(frozen=True, slots=True)
class SubmissionInfo:
    """The latest version an agency sent for a round's period."""

    id: int
    receipt: str
    agency_id: int
    version: int
    number: str
    issued_on: date
    note: str
    file_name: str
    size: int
    reporter: str
    status: str  # DocumentStatus
    submitted_at: datetime  # aware UTC
    status_reason: str = ""  # why it was returned (the review's reason)


@dataclass(frozen=True, slots=True)
class DocumentRoundData:
    """A document round as a report shows it: who is asked, what they sent."""

    code: str
    title: str
    ask: str
    deadline: date
    agencies: tuple[tuple[int, str, str], ...]  # (id, code, name) of the audience in scope
    submissions: tuple[SubmissionInfo, ...]  # latest per agency


@dataclass(frozen=True, slots=True)
class DocumentRow:
    agency_id: int
    agency_code: str
    agency_name: str
    state: DocumentState
    submission: SubmissionInfo | None


@dataclass(frozen=True, slots=True)
class DocumentTally:
    asked: int
    sent: int  # on time + late (returned ones not counted)
    on_time: int
    late: int
    returned: int
    not_sent: int  # missing + overdue + returned


def document_rows(
    round_: DocumentRoundData, as_of: date, tz: tzinfo
) -> tuple[list[DocumentRow], DocumentTally]:
    """Every agency asked, sent ones first (by time sent), then the rest by code."""
    latest = {s.agency_id: s for s in round_.submissions}
    rows: list[DocumentRow] = []
    for agency_id, code, name in round_.agencies:
        sent = latest.get(agency_id)
        if sent is None:
            state = DocumentState.OVERDUE if as_of > round_.deadline else DocumentState.MISSING
        elif sent.status == DocumentStatus.RETURNED.value:
            state = DocumentState.RETURNED
        elif sent.submitted_at.astimezone(tz).date() > round_.deadline:
            state = DocumentState.LATE
        else:
            state = DocumentState.ON_TIME
        rows.append(DocumentRow(agency_id, code, name, state, sent))
    rows.sort(
        key=lambda r: (
            r.submission is None,
            r.submission.submitted_at.timestamp() if r.submission else 0.0,
            r.agency_code,
        )
    )
    count = {s: sum(1 for r in rows if r.state is s) for s in DocumentState}
    tally = DocumentTally(
        asked=len(rows),
        sent=count[DocumentState.ON_TIME] + count[DocumentState.LATE],
        on_time=count[DocumentState.ON_TIME],
        late=count[DocumentState.LATE],
        returned=count[DocumentState.RETURNED],
        not_sent=count[DocumentState.MISSING]
        + count[DocumentState.OVERDUE]
        + count[DocumentState.RETURNED],
    )
    return rows, tally
