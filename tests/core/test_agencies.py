"""Lead/coordinating cells → agencies: names, aliases, groups, role phrases, leftovers."""

import unicodedata

import pytest
from sqlmodel import Session

from core.model import AgencyKind
from storage.agencies import load_directory


@pytest.fixture
def directory(engine):
    with Session(engine) as session:
        return load_directory(session)


def kinds_of(directory, codes):
    by_code = {a.code: a.kind for a in directory.agencies}
    return {by_code[c] for c in codes}


def test_role_phrase_becomes_annotation(directory):
    result = directory.resolve("Sở Nội vụ chủ trì xây dựng báo cáo")
    assert result.codes() == ["SNV"]
    assert result.agencies[0].annotation == "chủ trì xây dựng báo cáo"
    assert result.unresolved == []


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("VP UBND tỉnh", "VPUBND"),
        ("Văn phòng Ủy ban nhân dân tỉnh", "VPUBND"),
        ("Sở KH&ĐT", "SKHDT"),
        ("Sở Kế hoạch và đầu tư", "SKHDT"),
        ("Sở TT&TT", "STTTT"),
        ("SỞ TƯ PHÁP", "STP"),
        ("so tu phap", "STP"),
        (unicodedata.normalize("NFD", "Sở Tài chính"), "STC"),
    ],
)
def test_aliases_case_and_diacritics(directory, cell, code):
    assert directory.resolve(cell).codes() == [code]


def test_groups_expand_to_every_agency_of_their_kind(directory):
    result = directory.resolve("Các sở, ban, ngành, UBND cấp huyện, UBND cấp xã")
    codes = result.codes()
    assert kinds_of(directory, codes) == {
        AgencyKind.DEPARTMENT,
        AgencyKind.DISTRICT,
        AgencyKind.COMMUNE,
    }
    expected = sum(
        1
        for a in directory.agencies
        if a.kind in (AgencyKind.DEPARTMENT, AgencyKind.DISTRICT, AgencyKind.COMMUNE)
    )
    assert len(codes) == len(set(codes)) == expected == 20 + 18 + 241


@pytest.mark.parametrize(
    ("cell", "kinds"),
    [
        ("Các cơ quan, đơn vị, địa phương", {"department", "district", "commune"}),
        ("Các cơ quan ngành dọc cấp tỉnh", {"vertical"}),
        ("đơn vị sự nghiệp công lập", {"public_unit"}),
        ("UBND các huyện, thị xã, thành phố", {"district"}),
        ("Các Sở, Ban, ngành, UBND cấp huyện, cấp xã", {"department", "district", "commune"}),
    ],
)
def test_group_phrases(directory, cell, kinds):
    assert {k.value for k in kinds_of(directory, directory.resolve(cell).codes())} == kinds


def test_bullets_and_semicolons_split_agencies(directory):
    result = directory.resolve("- Đoàn kiểm tra CCHC của tỉnh - Sở Nội vụ")
    assert result.codes() == ["DKTCCHC", "SNV"]
    result = directory.resolve("Sở Tài chính; Sở Kế hoạch và đầu tư; Cục Thuế tỉnh")
    assert result.codes() == ["STC", "SKHDT", "CTHUE"]


def test_html_remnants_are_ignored(directory):
    cell = '<ul style="list-style-type: none"> - Các sở, ban, ngành, UBND cấp huyện</ul>'
    result = directory.resolve(cell)
    assert kinds_of(directory, result.codes()) == {AgencyKind.DEPARTMENT, AgencyKind.DISTRICT}


def test_vague_phrases_are_listed_not_dropped(directory):
    result = directory.resolve("Các cơ quan, đơn vị liên quan")
    assert result.codes() == []
    assert result.unresolved == ["Các cơ quan, đơn vị liên quan"]


def test_unknown_name_is_unresolved(directory):
    result = directory.resolve("Sở Du hành vũ trụ; Sở Nội vụ")
    assert result.codes() == ["SNV"]
    assert result.unresolved == ["Sở Du hành vũ trụ"]


def test_inactive_agencies_are_not_matched(engine):
    from sqlmodel import select

    from storage.tables.shared import Agency

    with Session(engine) as session:
        agency = session.exec(select(Agency).where(Agency.code == "SNGV")).one()
        agency.active = False
        session.add(agency)
        session.commit()
        directory = load_directory(session)
    assert "SNGV" not in directory.resolve("Các sở, ban, ngành").codes()
    assert directory.resolve("Sở Ngoại vụ").codes() == []
