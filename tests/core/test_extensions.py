"""Extensions in core: the one evaluation judges an extended pair against its new date; the
date rules of a request; only coordinators decide."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.auth import Refusal, may_decide_extension, may_invite_deputy
from core.commands import Actor
from core.evaluation import evaluate
from core.extensions import Decision, date_problem, decide
from core.model import UserRole
from core.report_model import ExtensionInfo, Verdict
from tests.core.test_evaluation import TZ, _data, _task, at, rep

OLD, NEW = date(2024, 7, 15), date(2024, 7, 31)


def _judged(reports, as_of, extension: ExtensionInfo | None):
    data = _data([_task(1, OLD)], {1: [1, 2]}, {}, reports, as_of)
    if extension is not None:
        data.extensions = {(1, 1): extension}
    return evaluate(data, TZ)


def test_done_before_the_extended_date_is_on_time_and_carries_the_extension():
    extension = ExtensionInfo(1, 1, OLD, NEW, "Chị Hoa", None, "chờ số liệu")
    done = [rep("done", at(date(2024, 7, 30), 10), agency=1)]
    report = _judged(done, date(2024, 8, 5), extension)
    mine, other = report.tasks[0].leads
    assert mine.verdict is Verdict.DONE_ON_TIME and mine.deadline == NEW
    assert mine.extension is extension
    assert other.deadline == OLD and other.extension is None and other.verdict is Verdict.OVERDUE
    # without the extension the same report is late: the extension is what changed it
    plain = _judged(done, date(2024, 8, 5), None).tasks[0].leads[0]
    assert plain.verdict is Verdict.DONE_LATE and plain.extension is None


def test_an_extended_pair_is_in_progress_until_its_new_date_then_overdue():
    extension = ExtensionInfo(1, 1, OLD, NEW)
    progress = [rep("in_progress", at(date(2024, 7, 10)), agency=1)]
    assert _judged(progress, date(2024, 7, 20), extension).tasks[0].leads[0].verdict is (
        Verdict.IN_PROGRESS
    )
    late = _judged(progress, date(2024, 8, 2), extension).tasks[0].leads[0]
    assert late.verdict is Verdict.OVERDUE and late.days_overdue == 2


def test_requested_dates_must_be_ahead_later_than_the_deadline_and_plausible():
    today = date(2024, 7, 10)
    assert date_problem(date(2024, 7, 9), today, OLD) == "past"
    assert date_problem(today, today, OLD) == "past"
    assert date_problem(date(2024, 7, 14), today, OLD) == "not_later"
    assert date_problem(OLD, today, OLD) == "not_later"
    assert date_problem(date(2027, 1, 1), today, OLD) == "too_far"
    assert date_problem(NEW, today, OLD) is None


class _Store:
    def __init__(self) -> None:
        self.decided: list[tuple[int, Decision]] = []

    def decide(self, request_id, decision, decider_id, refusal, now):
        self.decided.append((request_id, decision))
        return "decided"


def _actor(role: UserRole, agency_id: int | None = 4) -> Actor:
    return Actor(1, "telegram", "1", "1", role, agency_id, "STP")


def test_only_coordinators_and_admins_decide_whatever_path_the_decision_came_by():
    now = datetime(2024, 7, 10, tzinfo=UTC)
    for role in (UserRole.FOCAL, UserRole.LEADER):
        store = _Store()
        outcome = decide(store, _actor(role), 1, Decision.APPROVE, "", now)  # type: ignore[arg-type]
        assert isinstance(outcome, Refusal) and outcome.reason == "role"
        assert store.decided == []
    assert may_decide_extension(None) == Refusal("unlinked", "extension")
    store = _Store()
    assert decide(store, _actor(UserRole.COORDINATOR), 1, Decision.REJECT, "x", now) == "decided"  # type: ignore[arg-type]
    assert store.decided == [(1, Decision.REJECT)]


def test_a_focal_point_invites_deputies_for_its_own_agency_only():
    assert may_invite_deputy(_actor(UserRole.FOCAL, 4), 4) is None
    assert may_invite_deputy(_actor(UserRole.FOCAL, 4), 5) == Refusal("other_agency", "agency:5")
    assert may_invite_deputy(_actor(UserRole.FOCAL, 4), None) == Refusal(
        "other_agency", "agency:None"
    )
    assert may_invite_deputy(_actor(UserRole.LEADER, 4), 4).reason == "not_focal"  # type: ignore[union-attr]
