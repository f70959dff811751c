"""core.names: what people type for an agency, a kind or a role, read the same everywhere."""

from __future__ import annotations

from core.model import AgencyKind, UserRole
from core.names import NamedAgency, kind_from_words, match_agency, split_role

DIRECTORY = [
    NamedAgency("VPUBND", "Văn phòng UBND tỉnh", ("VP UBND tỉnh",)),
    NamedAgency("STP", "Sở Tư pháp", ("STP",)),
    NamedAgency("SNV", "Sở Nội vụ"),
    NamedAgency("UBND-NT", "UBND huyện Núi Thành"),
    NamedAgency("UBND-TB", "UBND huyện Thăng Bình"),
]


def test_codes_names_and_a_name_without_its_generic_word_name_one_agency():
    assert match_agency("stp", DIRECTORY).code == "STP"
    assert match_agency("sở tư pháp", DIRECTORY).code == "STP"
    assert match_agency("tu phap", DIRECTORY).code == "STP"
    assert match_agency("vp ubnd tinh", DIRECTORY).code == "VPUBND"


def test_a_phrase_inside_another_name_is_listed_not_guessed():
    found = match_agency("UBND tỉnh", DIRECTORY)
    assert found.code is None
    assert found.candidates == [("VPUBND", "Văn phòng UBND tỉnh")]
    several = match_agency("UBND huyện", DIRECTORY)
    assert several.code is None and len(several.candidates) == 2
    assert match_agency("không có", DIRECTORY).candidates == []


def test_kinds_and_roles_in_vietnamese():
    assert kind_from_words("sở") is AgencyKind.DEPARTMENT
    assert kind_from_words("cấp xã") is AgencyKind.COMMUNE
    assert kind_from_words("commune") is AgencyKind.COMMUNE
    assert kind_from_words("tỉnh") is None
    assert split_role("Sở Tư pháp đầu mối") == ("Sở Tư pháp", UserRole.FOCAL, True)
    assert split_role("STP lãnh đạo") == ("STP", UserRole.LEADER, True)
    assert split_role("Sở Tư pháp") == ("Sở Tư pháp", None, False)
