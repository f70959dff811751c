"""core.deputies: the main focal point, its deputies while it is away, then the leaders."""

from __future__ import annotations

from datetime import date

from core.deputies import FocalPerson, absence_problem, recipients

MAIN, DEPUTY, LEADER = 1, 2, 9
AWAY = FocalPerson(MAIN, away_from=date(2024, 7, 15), away_until=date(2024, 7, 19))


def test_the_main_focal_point_alone_receives_while_present():
    people = [FocalPerson(MAIN), FocalPerson(DEPUTY, deputy=True)]
    assert recipients(people, [LEADER], date(2024, 7, 15)) == [MAIN]


def test_deputies_stand_in_during_the_absence_and_the_main_one_comes_back_after():
    people = [AWAY, FocalPerson(DEPUTY, deputy=True)]
    assert recipients(people, [LEADER], date(2024, 7, 12)) == [MAIN]
    assert recipients(people, [LEADER], date(2024, 7, 15)) == [DEPUTY]
    assert recipients(people, [LEADER], date(2024, 7, 19)) == [DEPUTY]
    assert recipients(people, [LEADER], date(2024, 7, 22)) == [MAIN]


def test_with_no_deputy_reachable_the_leaders_receive():
    assert recipients([AWAY], [LEADER], date(2024, 7, 16)) == [LEADER]
    blocked = FocalPerson(DEPUTY, deputy=True, active=False)
    assert recipients([AWAY, blocked], [LEADER], date(2024, 7, 16)) == [LEADER]
    # an unreachable main focal point (bot blocked) is stood in for too
    assert recipients(
        [FocalPerson(MAIN, active=False), FocalPerson(DEPUTY, deputy=True)], [], date(2024, 7, 1)
    ) == [DEPUTY]


def test_absence_dates_are_checked():
    today = date(2024, 7, 10)
    assert absence_problem(date(2024, 7, 15), date(2024, 7, 12), today) == "end_before_start"
    assert absence_problem(date(2024, 7, 1), date(2024, 7, 5), today) == "past"
    assert absence_problem(date(2024, 7, 15), date(2025, 8, 1), today) == "too_long"
    assert absence_problem(date(2024, 7, 15), date(2024, 7, 15), today) is None
