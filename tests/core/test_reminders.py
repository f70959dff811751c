"""Pure policy: the reminder ladder, its inverse, recurring rounds, progress edits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.broadcast import AudienceKind, BroadcastAudience, ProgressPolicy
from core.calendar import WorkCalendar
from core.reminders import LevelKind, ReminderLevel, ReminderPolicy
from core.rounds import Audience, AudienceError, RoundSchedule, add_months

# Vietnam 2024 around the 05/7 deadline has no holiday; 2/9 and 3/9 are days off
CAL = WorkCalendar.of(days_off=[date(2024, 9, 2), date(2024, 9, 3)])
POLICY = ReminderPolicy()


def ladder(deadline: date, start: date, end: date) -> dict[date, str]:
    days, day = {}, start
    while day <= end:
        level = POLICY.level_for(CAL, deadline, day)
        if level:
            days[day] = level.code
        day += timedelta(days=1)
    return days


def test_the_ladder_of_the_5_july_deadline():
    assert ladder(date(2024, 7, 5), date(2024, 6, 20), date(2024, 7, 20)) == {
        date(2024, 6, 26): "t-7",
        date(2024, 7, 2): "t-3",
        date(2024, 7, 4): "t-1",
        date(2024, 7, 5): "t0",
        date(2024, 7, 8): "od1",
        date(2024, 7, 9): "od2",
        date(2024, 7, 10): "od3",
        date(2024, 7, 11): "esc",
    }


def test_a_deadline_on_sunday_runs_to_monday_and_skips_the_national_day():
    days = ladder(date(2024, 9, 1), date(2024, 8, 15), date(2024, 9, 15))
    assert days[date(2024, 9, 4)] == "t0"  # Sunday 1/9 → Monday 2/9 off, 3/9 off → Wed 4/9
    assert days[date(2024, 9, 3 + 2)] == "od1"


@pytest.mark.parametrize("deadline_day", range(1, 31))
def test_deadlines_for_is_the_exact_inverse_of_level_for(deadline_day):
    deadline = date(2024, 9, deadline_day)
    for offset in range(-20, 20):
        today = deadline + timedelta(days=offset)
        level = POLICY.level_for(CAL, deadline, today)
        inverse = POLICY.deadlines_for(CAL, today).get(deadline)
        assert level == inverse, (deadline, today)


def test_settings_shape_the_policy_and_bad_values_are_refused():
    policy = ReminderPolicy.from_settings("5, 1", 2, time(9))
    assert (policy.before, policy.on_deadline, policy.overdue_days) == ((5, 1), False, 2)
    assert policy.level_for(CAL, date(2024, 7, 5), date(2024, 7, 5)) is None
    assert policy.level_for(CAL, date(2024, 7, 5), date(2024, 7, 10)).kind is LevelKind.ESCALATE
    with pytest.raises(ValueError):
        ReminderPolicy.from_settings("7,x", 3)
    assert ReminderLevel.parse("od2") == ReminderLevel(LevelKind.OVERDUE, 2)


def test_checkin_is_the_first_working_day_of_the_month():
    assert POLICY.checkin_due(CAL, date(2024, 7, 1))
    assert not POLICY.checkin_due(CAL, date(2024, 7, 2))
    assert POLICY.checkin_due(CAL, date(2024, 9, 4))  # 1/9 Sunday, 2/9 and 3/9 off


def test_monthly_rounds_keep_month_ends_and_their_periods():
    schedule = RoundSchedule(date(2024, 7, 31), date(2024, 7, 1), "monthly")
    assert [schedule.period(n).deadline for n in range(4)] == [
        date(2024, 7, 31),
        date(2024, 8, 31),
        date(2024, 9, 30),
        date(2024, 10, 31),
    ]
    assert schedule.period(2).opens == date(2024, 9, 1)
    assert schedule.current(date(2024, 9, 10)).deadline == date(2024, 9, 30)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_audiences_are_validated():
    assert Audience.from_json('{"tasks": "*"}').all_tasks
    with pytest.raises(AudienceError):
        Audience.from_json("{}")
    with pytest.raises(AudienceError):
        Audience.from_json('{"kinds": ["planet"]}')
    with pytest.raises(AudienceError):
        Audience.from_json('{"agencies": ["STP"], "tasks": ["I.1"]}')
    with pytest.raises(ValueError):
        BroadcastAudience(AudienceKind.PICKED)
    picked = BroadcastAudience(AudienceKind.PICKED, codes=("STP",))
    assert BroadcastAudience.from_json(picked.to_json()) == picked


def test_progress_is_edited_every_few_seconds_and_at_the_end():
    policy = ProgressPolicy(timedelta(seconds=3))
    t0 = datetime(2024, 7, 1, tzinfo=UTC)
    assert policy.should_edit(0, 10, 300, None, t0)
    assert not policy.should_edit(10, 40, 300, t0, t0 + timedelta(seconds=1))
    assert policy.should_edit(10, 40, 300, t0, t0 + timedelta(seconds=3))
    assert policy.should_edit(290, 300, 300, t0, t0 + timedelta(seconds=1))
    assert not policy.should_edit(300, 300, 300, t0, t0 + timedelta(seconds=9))
