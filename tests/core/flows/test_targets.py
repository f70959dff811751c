"""Targets in expected outputs, and validation of the achieved figure (pure core functions)."""

from __future__ import annotations

import unicodedata

import pytest

from core.conversation import Invalid
from core.flows.targets import (
    COUNT,
    PERCENT,
    extract_targets,
    meets,
    parse_figure,
    primary_target,
    with_unit,
)

CASES = [
    # (expected output as in the plan, [(kind, value, op, phrase, unit), ...]): the phrase is
    # the whole clause that states the target, never a window of words cut mid-phrase
    (
        "- Bảo đảm tỷ lệ hồ sơ giải quyết đúng hạn trên 95%.",
        [(PERCENT, 95, ">", "Bảo đảm tỷ lệ hồ sơ giải quyết đúng hạn trên 95%", "")],
    ),
    (
        "Đảm bảo 100% nhiệm vụ được giao hoàn thành",
        [(PERCENT, 100, ">=", "Đảm bảo 100% nhiệm vụ được giao hoàn thành", "")],
    ),
    (
        "ít nhất từ 03 cuộc đối thoại, diễn đàn trở lên",
        [(COUNT, 3, ">=", "ít nhất từ 03 cuộc đối thoại, diễn đàn trở lên", "cuộc đối thoại")],
    ),
    (
        "có ít nhất 01 sáng kiến, giải pháp",
        [(COUNT, 1, ">=", "có ít nhất 01 sáng kiến, giải pháp", "sáng kiến")],
    ),
    (
        "- Thực hiện đầy đủ 03 hoạt động theo dõi tình hình thi hành pháp luật - Báo cáo kết quả",
        [
            (
                COUNT,
                3,
                ">=",
                "Thực hiện đầy đủ 03 hoạt động theo dõi tình hình thi hành pháp luật",
                "hoạt động",
            )
        ],
    ),
    (
        "Thực hiện đạt 90% trở lên các kết luận; báo cáo hằng quý",
        [(PERCENT, 90, ">=", "Thực hiện đạt 90% trở lên các kết luận", "")],
    ),
    (
        "Hoàn thành 100% các mục tiêu, nhiệm vụ phát triển kinh tế - xã hội năm 2024",
        [
            (
                PERCENT,
                100,
                ">=",
                "Hoàn thành 100% các mục tiêu, nhiệm vụ phát triển kinh tế - xã hội năm 2024",
                "",
            )
        ],
    ),
    (
        "Bảo đảm từ 80% - 100% CQCM đạt điểm tốt",
        [
            (PERCENT, 80, ">=", "Bảo đảm từ 80% - 100% CQCM đạt điểm tốt", ""),
            (PERCENT, 100, ">=", "Bảo đảm từ 80% - 100% CQCM đạt điểm tốt", ""),
        ],
    ),
    (
        "Tỷ lệ dịch vụ công đạt 100% - Tỷ lệ hồ sơ trực tuyến toàn trình đạt 50%",
        [
            (PERCENT, 100, ">=", "Tỷ lệ dịch vụ công đạt 100%", ""),
            (PERCENT, 50, ">=", "Tỷ lệ hồ sơ trực tuyến toàn trình đạt 50%", ""),
        ],
    ),
    (
        "- Công khai TTHC trên Cổng DVC -100% Trang thông tin điện tử công khai TTHC.",
        [(PERCENT, 100, ">=", "100% Trang thông tin điện tử công khai TTHC", "")],
    ),
    ("Tỷ lệ đạt 95,5% trở lên", [(PERCENT, 95.5, ">=", "Tỷ lệ đạt 95,5% trở lên", "")]),
    (
        "Hoàn thành 33 chỉ tiêu, nhiệm vụ",
        [(COUNT, 33, ">=", "Hoàn thành 33 chỉ tiêu, nhiệm vụ", "chỉ tiêu")],
    ),
    # no target: deadlines in days, legal references, years, plain prose
    ("ban hành chậm nhất trước 05 ngày làm việc", []),
    ("Thực hiện theo Nghị định số 61/2018/NĐ-CP", []),
    ("Tổng số vốn thu hút đầu tư năm 2024 cao hơn năm 2023.", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_extract_targets(text, expected):
    found = [(t.kind, t.value, t.op, t.phrase, t.unit) for t in extract_targets(text)]
    assert found == expected


def test_targets_are_found_in_nfd_text_too():
    text = unicodedata.normalize("NFD", "Bảo đảm tỷ lệ trên 95%; có ít nhất 02 đơn vị")
    found = [(t.kind, t.value) for t in extract_targets(text)]
    assert found == [(PERCENT, 95), (COUNT, 2)]
    assert primary_target(text).phrase == "Bảo đảm tỷ lệ trên 95%"


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


@pytest.mark.parametrize(
    ("expected_output", "figure", "shown"),
    [
        ("ít nhất 03 cuộc đối thoại", "2", "2 cuộc đối thoại"),
        ("Thực hiện đầy đủ 03 hoạt động theo dõi", "3", "3 hoạt động"),
        ("Bảo đảm 100% hồ sơ", "96%", "96%"),
        ("Không có chỉ tiêu", "5", "5"),
    ],
)
def test_a_count_figure_is_written_with_its_unit(expected_output, figure, shown):
    assert with_unit(primary_target(expected_output), figure) == shown
