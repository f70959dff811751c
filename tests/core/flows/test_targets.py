"""Targets in expected outputs, and validation of the achieved figure (pure core functions)."""

from __future__ import annotations

import unicodedata

import pytest

from core.conversation import Invalid
from core.flows.targets import COUNT, PERCENT, extract_targets, meets, parse_figure, primary_target

CASES = [
    # (expected output as in the plan, [(kind, value, op, phrase), ...])
    ("- Bảo đảm tỷ lệ hồ sơ giải quyết đúng hạn trên 95%.", [(PERCENT, 95, ">", "trên 95%")]),
    ("Đảm bảo 100% nhiệm vụ được giao hoàn thành", [(PERCENT, 100, ">=", "100%")]),
    (
        "ít nhất từ 03 cuộc đối thoại, diễn đàn trở lên",
        [(COUNT, 3, ">=", "ít nhất từ 03 cuộc đối thoại")],
    ),
    ("có ít nhất 01 sáng kiến, giải pháp", [(COUNT, 1, ">=", "ít nhất 01 sáng kiến")]),
    ("Thực hiện đạt 90% trở lên các kết luận", [(PERCENT, 90, ">=", "đạt 90% trở lên")]),
    ("Đạt tối thiểu 80% tỷ lệ số hóa", [(PERCENT, 80, ">=", "tối thiểu 80%")]),
    ("Số lượng đơn vị sự nghiệp công lập giảm trên 10%", [(PERCENT, 10, ">", "trên 10%")]),
    (
        "Tỷ lệ dịch vụ công đạt 100% - Tỷ lệ hồ sơ trực tuyến toàn trình đạt 50%",
        [(PERCENT, 100, ">=", "đạt 100%"), (PERCENT, 50, ">=", "đạt 50%")],
    ),
    ("Tỷ lệ đạt 95,5% trở lên", [(PERCENT, 95.5, ">=", "đạt 95,5% trở lên")]),
    ("Hoàn thành 33 chỉ tiêu, nhiệm vụ", [(COUNT, 33, ">=", "Hoàn thành 33 chỉ tiêu")]),
    # no target: deadlines in days, legal references, years, plain prose
    ("ban hành chậm nhất trước 05 ngày làm việc", []),
    ("Thực hiện theo Nghị định số 61/2018/NĐ-CP", []),
    ("Tổng số vốn thu hút đầu tư năm 2024 cao hơn năm 2023.", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_extract_targets(text, expected):
    found = [(t.kind, t.value, t.op, t.phrase) for t in extract_targets(text)]
    assert found == expected


def test_targets_are_found_in_nfd_text_too():
    text = unicodedata.normalize("NFD", "Bảo đảm tỷ lệ trên 95%; có ít nhất 02 đơn vị")
    found = [(t.kind, t.value) for t in extract_targets(text)]
    assert found == [(PERCENT, 95), (COUNT, 2)]
    assert primary_target(text).phrase == "trên 95%"


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        (PERCENT, "96", "96%"),
        (PERCENT, "96,5", "96,5%"),
        (PERCENT, "96.5 %", "96,5%"),
        (PERCENT, " 100% ", "100%"),
        (PERCENT, "0", "0%"),
        (COUNT, "03", "3"),
        (COUNT, "3 cuộc", "3"),
    ],
)
def test_valid_figures(kind, typed, stored):
    assert parse_figure(kind, typed) == stored


@pytest.mark.parametrize(
    ("kind", "typed"),
    [
        (PERCENT, "101"),
        (PERCENT, "-5"),
        (PERCENT, "khoảng chín mươi"),
        (PERCENT, "%"),
        (COUNT, "2,5"),
        (COUNT, "ba cuộc"),
        (COUNT, ""),
    ],
)
def test_invalid_figures(kind, typed):
    with pytest.raises(Invalid) as caught:
        parse_figure(kind, typed)
    assert caught.value.reason.template == "chat/report_invalid_figure.j2"
    assert caught.value.reason.context["kind"] == kind


@pytest.mark.parametrize(
    ("target", "figure", "reached"),
    [
        ("trên 95%", "95%", False),
        ("trên 95%", "95,1%", True),
        ("100%", "100%", True),
        ("100%", "99,9%", False),
        ("ít nhất 03 cuộc", "3", True),
        ("ít nhất 03 cuộc", "2", False),
    ],
)
def test_meets(target, figure, reached):
    assert meets(primary_target(target), figure) is reached
