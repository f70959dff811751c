"""Schedule strings → deadline rules: every schedule in the 2024 plan plus common forms."""

from datetime import date

import pytest

from core.model import RuleKind
from core.schedule import parse_schedule
from storage.importers import read_plan

CASES = [
    ("Trong năm 2024", RuleKind.DATE, date(2024, 12, 31), None),
    ("trong năm 2024", RuleKind.DATE, date(2024, 12, 31), None),
    ("Trong năm", RuleKind.DATE, date(2024, 12, 31), None),  # the plan's year
    ("Thường xuyên", RuleKind.RECURRING, None, "monthly"),
    ("Hằng tháng", RuleKind.RECURRING, None, "monthly"),
    ("hàng quý", RuleKind.RECURRING, None, "quarterly"),
    ("Theo quy định của Bộ Nội vụ", RuleKind.EXTERNAL, None, None),
    ("Theo Kế hoạch kiểm tra", RuleKind.EXTERNAL, None, None),
    ("Theo kế hoạch của Bộ Nội vụ", RuleKind.EXTERNAL, None, None),
    ("Theo tiến độ triển khai của Trung ương", RuleKind.EXTERNAL, None, None),
    ("trước ngày 05/7/2024", RuleKind.DATE, date(2024, 7, 5), None),
    ("05/7/2024", RuleKind.DATE, date(2024, 7, 5), None),
    ("5-7-2024", RuleKind.DATE, date(2024, 7, 5), None),
    ("ngày 5 tháng 7 năm 2024", RuleKind.DATE, date(2024, 7, 5), None),
    ("Quý III/2024", RuleKind.DATE, date(2024, 9, 30), None),
    ("Quý 3 năm 2024", RuleKind.DATE, date(2024, 9, 30), None),
    ("quý IV/2024", RuleKind.DATE, date(2024, 12, 31), None),
    ("tháng 9/2024", RuleKind.DATE, date(2024, 9, 30), None),
    ("Tháng 2 năm 2024", RuleKind.DATE, date(2024, 2, 29), None),
    ("6 tháng đầu năm 2024", RuleKind.DATE, date(2024, 6, 30), None),
    ("9 tháng đầu năm 2024", RuleKind.DATE, date(2024, 9, 30), None),
    ("6 tháng cuối năm 2024", RuleKind.DATE, date(2024, 12, 31), None),
    ("32/13/2024", RuleKind.UNKNOWN, None, None),  # malformed date: flagged, never guessed
    ("tháng 13/2024", RuleKind.UNKNOWN, None, None),
    ("Khi có yêu cầu", RuleKind.UNKNOWN, None, None),
    ("", RuleKind.UNKNOWN, None, None),
]


@pytest.mark.parametrize(("text", "kind", "due", "recurrence"), CASES)
def test_schedule_forms(text, kind, due, recurrence):
    rule = parse_schedule(text, default_year=2024)
    assert (rule.kind, rule.due, rule.recurrence) == (kind, due, recurrence)
    assert rule.raw == text.strip()


def test_nfd_text_reads_like_nfc():
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Thường xuyên")
    assert parse_schedule(nfd).kind is RuleKind.RECURRING


def test_unknown_keeps_raw_text_and_needs_coordinator():
    rule = parse_schedule("Sau khi có ý kiến của UBND tỉnh")
    assert rule.kind is RuleKind.UNKNOWN
    assert rule.raw == "Sau khi có ý kiến của UBND tỉnh"
    assert rule.needs_coordinator


def test_every_schedule_of_the_2024_plan_is_understood(seed_dir):
    draft = read_plan(seed_dir / "ke-hoach-cai-thien-par-index-2024.txt")
    schedules = {t.schedule for t in draft.tasks}
    assert schedules == {
        "Trong năm 2024",
        "Thường xuyên",
        "Theo quy định của Bộ Nội vụ",
        "Theo Kế hoạch kiểm tra",
        "Theo kế hoạch của Bộ Nội vụ",
        "Theo tiến độ triển khai của Trung ương",
    }
    for text in schedules:
        assert parse_schedule(text, 2024).kind is not RuleKind.UNKNOWN, text
