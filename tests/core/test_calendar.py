"""Working days: library holidays, the admin's days off and make-up days, the send window."""

from __future__ import annotations

from datetime import date, time

from sqlmodel import Session

from core.calendar import SendWindow, WorkCalendar
from core.text_parts import split_text, utf16_len
from storage.db import transaction
from storage.scheduling.calendar import list_days, load_calendar, remove_day, set_day
from tests.support.scheduling import vn


def calendar_of(engine, *years: int) -> WorkCalendar:
    with Session(engine) as session:
        return load_calendar(session, years or (2024, 2025))


def test_three_working_days_before_friday_5_july_2024_is_tuesday_2_july(any_empty_engine):
    calendar = calendar_of(any_empty_engine)
    assert calendar.working_days_before(date(2024, 7, 5), 3) == date(2024, 7, 2)


def test_tet_2025_off_from_25_january_to_2_february(any_empty_engine):
    with transaction(any_empty_engine) as session:
        for day in range(25, 32):
            set_day(session, date(2025, 1, day), "off", "Nghỉ Tết Ất Tỵ", "cli")
        for day in (1, 2):
            set_day(session, date(2025, 2, day), "off", "Nghỉ Tết Ất Tỵ", "cli")
    calendar = calendar_of(any_empty_engine)
    assert calendar.previous_working_day(date(2025, 2, 3)) == date(2025, 1, 24)
    assert not any(calendar.is_working_day(date(2025, 1, d)) for d in range(25, 32))


def test_an_added_make_up_working_saturday_counts(any_empty_engine):
    saturday = date(2024, 7, 6)
    assert not calendar_of(any_empty_engine).is_working_day(saturday)
    with transaction(any_empty_engine) as session:
        set_day(session, saturday, "work", "Làm bù", "cli")
    calendar = calendar_of(any_empty_engine)
    assert calendar.is_working_day(saturday)
    # Monday 8/7 is now 2 working days after Friday 5/7, not 1
    assert calendar.working_days_between(date(2024, 7, 5), date(2024, 7, 8)) == 2
    assert calendar.working_days_before(date(2024, 7, 8), 1) == saturday


def test_the_library_knows_lunar_holidays_and_government_swaps(empty_engine):
    calendar = calendar_of(empty_engine)
    assert not calendar.is_working_day(date(2024, 4, 18))  # Giỗ Tổ Hùng Vương 10/3 âm lịch
    assert not calendar.is_working_day(date(2024, 2, 12))  # Tết Giáp Thìn
    assert not calendar.is_working_day(date(2024, 4, 29))  # swapped day off before 30/4
    assert calendar.is_working_day(date(2024, 5, 4))  # the Saturday worked in exchange
    assert not calendar.is_working_day(date(2024, 9, 3))  # Quốc khánh, second day


def test_admin_decisions_win_over_the_library_and_can_be_undone(empty_engine):
    with transaction(empty_engine) as session:
        set_day(session, date(2024, 5, 4), "off", "bỏ làm bù", "cli")
    assert not calendar_of(empty_engine).is_working_day(date(2024, 5, 4))
    with transaction(empty_engine) as session:
        assert remove_day(session, date(2024, 5, 4))
    assert calendar_of(empty_engine).is_working_day(date(2024, 5, 4))


def test_listing_shows_library_and_admin_days_in_vietnamese(empty_engine):
    with transaction(empty_engine) as session:
        set_day(session, date(2024, 12, 31), "off", "Nghỉ cuối năm", "cli")
        days = {entry.day: entry for entry in list_days(session, 2024)}
    assert "Giỗ Tổ Hùng Vương" in days[date(2024, 4, 18)].name
    assert days[date(2024, 5, 4)].kind == "work"
    assert (days[date(2024, 12, 31)].source, days[date(2024, 12, 31)].kind) == ("admin", "off")


def test_deadline_on_a_day_off_moves_to_the_next_working_day():
    calendar = WorkCalendar.of(days_off=[date(2024, 9, 2), date(2024, 9, 3)])
    assert calendar.effective_deadline(date(2024, 8, 31)) == date(2024, 9, 4)
    assert calendar.effective_deadline(date(2024, 9, 30)) == date(2024, 9, 30)


def test_send_window_is_office_hours_on_working_days_in_vietnam_time():
    calendar = WorkCalendar.of()
    window = SendWindow(time(7, 30), time(17, 0))
    friday = date(2024, 7, 5)
    assert window.is_open(vn(friday, 7, 30), calendar)
    assert not window.is_open(vn(friday, 7, 29), calendar)
    assert not window.is_open(vn(friday, 17, 0), calendar)
    assert not window.is_open(vn(date(2024, 7, 6), 10), calendar)  # Saturday
    assert window.next_open(vn(friday, 18), calendar) == vn(date(2024, 7, 8), 7, 30)
    assert window.next_open(vn(friday, 6), calendar) == vn(friday, 7, 30)


def test_split_text_respects_utf16_and_word_boundaries():
    text = ("Ủy ban nhân dân " * 40).strip()
    parts = split_text(text, 100)
    assert all(utf16_len(p) <= 100 for p in parts)
    assert " ".join(parts) == text
    emoji = "😀" * 10
    assert [utf16_len(p) for p in split_text(emoji, 5)] == [4, 4, 4, 4, 4]
    decomposed = "U\u031b\u0309y" * 10  # NFD "Ủy": marks never start a part
    assert all(p[0] not in "\u031b\u0309" for p in split_text(decomposed, 7))
    assert "".join(split_text(decomposed, 7)) == decomposed
