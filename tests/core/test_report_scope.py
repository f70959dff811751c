"""Report scope by where a leader sits (core.auth.report_reach through core.report_model)."""

from __future__ import annotations

import pytest

from core.auth import Refusal, Seat, report_reach
from core.model import UserRole
from core.report_model import ReportRefused, Scope, scope_for

DISTRICT = Seat("H-01", below=("X-001", "X-002"))
COMMUNE = Seat("X-001")
PROVINCE = Seat("SNV", directs_plan=True)


def test_a_commune_leader_sees_only_the_commune_whatever_they_ask():
    scope = scope_for(UserRole.LEADER, COMMUNE, Scope(agency_code="STP", area_code="II"))
    assert scope == Scope(agency_code="X-001", area_code="II")


def test_a_district_leader_sees_the_district_and_its_communes():
    scope = scope_for(UserRole.LEADER, DISTRICT, Scope(agency_kind="department"))
    assert scope.agency_code == "H-01"
    assert scope.agency_codes == ("H-01", "X-001", "X-002")


def test_a_leader_of_a_body_that_directs_the_plan_sees_the_whole_plan():
    asked = Scope(area_code="III", agency_kind="commune")
    assert scope_for(UserRole.LEADER, PROVINCE, asked) == asked


def test_a_department_leader_that_directs_nothing_sees_only_the_department():
    assert scope_for("leader", "STP", Scope()) == Scope(agency_code="STP")


def test_a_leader_linked_to_no_agency_is_refused():
    with pytest.raises(ReportRefused) as refused:
        scope_for(UserRole.LEADER, Seat(None), Scope())
    assert refused.value.reason == "no_agency"


def test_a_focal_point_never_gets_the_agencies_under_it():
    assert report_reach(UserRole.FOCAL, DISTRICT) == ("H-01",)
    assert report_reach(UserRole.COORDINATOR, COMMUNE) is None
    assert report_reach("guest", PROVINCE) == Refusal("role")
