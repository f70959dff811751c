"""The /tonghop flow through its ports, with in-memory scopes and a recording compile job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.auth import Seat
from core.commands import ChatConfig
from core.flows.compiled_report import (
    FLOW,
    ScopeChoice,
    build_compiled_report_flow,
    start,
)
from core.model import UserRole
from core.outgoing import Outgoing
from core.report_model import Scope
from tests.core.flows.driver import FakeContext, FlowDriver, actor


@dataclass
class MemoryScopes:
    plan_list: list[ScopeChoice] = field(
        default_factory=lambda: [ScopeChoice("PAR-2024", "Kế hoạch cải thiện PAR INDEX 2024")]
    )
    asked: list[tuple[str, str | None]] = field(default_factory=list)

    def plans(self) -> list[ScopeChoice]:
        return self.plan_list

    def rounds(self, plan_code: str | None) -> list[ScopeChoice]:
        self.asked.append(("rounds", plan_code))
        return [ScopeChoice("KH", "Kế hoạch cải thiện")]

    def areas(self, plan_code: str | None) -> list[ScopeChoice]:
        self.asked.append(("areas", plan_code))
        return [ScopeChoice("I", "Chỉ đạo"), ScopeChoice("II", "Thể chế")]

    seat_code: str = "SNV"  # where the test's reader sits; SNV issues the report

    def seat(self, agency_id: int | None, report_issuer: str) -> Seat:
        if agency_id is None:
            return Seat(None)
        return Seat(self.seat_code, directs_plan=self.seat_code == report_issuer)


@dataclass
class RecordingCompiler:
    calls: list[tuple[Scope, int, str]] = field(default_factory=list)

    def __call__(
        self, config: ChatConfig, scope: Scope, now: datetime, contact_id: int, label: str
    ) -> Any:
        self.calls.append((scope, contact_id, label))
        return lambda session: [Outgoing(f"tổng hợp {scope.agency_code or 'toàn bộ'}")]


def setup(role: UserRole, agency: str = "SNV", scopes: MemoryScopes | None = None):
    scopes = scopes or MemoryScopes()
    scopes.seat_code = agency
    compiler = RecordingCompiler()
    ctx = FakeContext(actor(role, agency))
    flow = build_compiled_report_flow(lambda c: scopes, compiler)
    return FlowDriver(flow, ctx), ctx, scopes, compiler


def test_one_tap_compiles_the_whole_report_after_the_update_commits():
    flow, ctx, scopes, compiler = setup(UserRole.COORDINATOR)
    assert start(ctx, scopes) == [] and ctx.started == [
        (FLOW, {"whole": True, "agency": "", "plans": 1})
    ]
    flow.start(ctx.started[0][1])
    assert flow.labels() == ["Đến hôm nay", "Chọn phạm vi…"]
    done = flow.press("now")
    assert done.finished and done.say == []  # the replies come from the deferred job
    assert compiler.calls == [(Scope(), 1, "")]
    assert [m.text for m in ctx.deferred[0](None)] == ["tổng hợp toàn bộ"]
    assert ctx.audits[0]["action"] == "report_compiled" and ctx.audits[0]["as_of"] == "2024-07-01"


def test_a_focal_point_picks_a_scope_but_gets_only_their_agency():
    flow, ctx, scopes, compiler = setup(UserRole.FOCAL, "STP")
    start(ctx, scopes)
    data = ctx.started[0][1]
    assert data == {"whole": False, "agency": "Cơ quan STP", "plans": 1}
    flow.start(data)
    flow.press("pick")
    assert flow.step == "round"  # one plan: no plan step
    flow.press("*")
    flow.press("II")
    assert flow.step == "as_of"  # no kind step for a focal point
    flow.type("01/01/2030")
    assert flow.step == "as_of" and "không được sau hôm nay (01/07/2024)" in flow.said()[0]
    flow.type("30/06/2024")
    (scope, _, label), = compiler.calls
    assert scope.agency_code == "STP" and scope.area_code == "II" and scope.round_code is None
    assert scope.as_of is not None and scope.as_of.isoformat() == "2024-06-30"
    assert label == "Cơ quan STP"


def test_several_plans_ask_for_the_plan_and_its_rounds_and_areas_follow_it():
    scopes = MemoryScopes(
        plan_list=[
            ScopeChoice("PAR-2025", "Kế hoạch 2025"),
            ScopeChoice("PAR-2024", "Kế hoạch 2024"),
        ]
    )
    flow, ctx, _, compiler = setup(UserRole.LEADER, scopes=scopes)
    start(ctx, scopes)
    flow.start(ctx.started[0][1])
    flow.press("pick")
    assert flow.options == ["PAR-2025", "PAR-2024"]
    flow.press("PAR-2024")
    flow.press("KH")
    flow.press("I")
    assert "UBND cấp huyện" in flow.labels()  # kinds, labelled in Vietnamese
    flow.type("UBND cấp huyện")  # a typed label picks it too
    flow.press("@skip")
    (scope, _, _), = compiler.calls
    assert (scope.plan_code, scope.round_code, scope.agency_kind) == ("PAR-2024", "KH", "district")
    assert ("rounds", "PAR-2024") in scopes.asked and ("areas", "PAR-2024") in scopes.asked


def test_without_a_plan_or_a_link_nothing_starts():
    flow, ctx, _, _ = setup(UserRole.COORDINATOR, scopes=MemoryScopes(plan_list=[]))
    assert [m.text for m in start(ctx, MemoryScopes(plan_list=[]))] == [
        "Chưa có kế hoạch nào để tổng hợp."
    ]
    orphan = FakeContext(None)
    refused = start(orphan, MemoryScopes())
    assert refused and orphan.started == [] and orphan.audits[0]["outcome"] == "refused"
