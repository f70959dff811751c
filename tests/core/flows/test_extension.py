"""The /giahan decision flow against an in-memory port: oldest first, one at a time, a refusal
asks its reason, Bỏ qua leaves a request for later; and the role rule holds inside the flow,
whoever reached it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from core.extensions import Decision, ExtensionRefused, ExtensionRequestInfo, ExtensionStatus
from core.flows.extension import build_decide_flow
from core.model import UserRole
from tests.core.flows.driver import NOW, FakeContext, FlowDriver, actor


class MemoryExtensions:
    def __init__(self, *ids: int) -> None:
        self.rows = {
            i: ExtensionRequestInfo(
                i,
                100 + i,
                f"II.{i}",
                "Nhiệm vụ",
                4,
                "Sở Tư pháp",
                "Anh Tư pháp",
                NOW,
                date(2024, 7, 15),
                date(2024, 7, 31),
                f"lý do {i}",
            )
            for i in ids
        }

    def next_pending(self, skipped):
        waiting = [r for r in self.rows.values() if r.status is ExtensionStatus.PENDING]
        return next((r for r in waiting if r.id not in skipped), None)

    def pending_count(self):
        return sum(1 for r in self.rows.values() if r.status is ExtensionStatus.PENDING)

    def decide(self, request_id, decision, decider_id, refusal, now):
        row = self.rows[request_id]
        if row.status is not ExtensionStatus.PENDING:
            raise ExtensionRefused("decided")
        status = (
            ExtensionStatus.APPROVED if decision is Decision.APPROVE else ExtensionStatus.REJECTED
        )
        self.rows[request_id] = replace(row, status=status, refusal=refusal)
        return self.rows[request_id]


def test_oldest_first_reject_asks_the_reason_and_skip_leaves_it_pending():
    store = MemoryExtensions(1, 2, 3)
    flow = FlowDriver(build_decide_flow(lambda ctx: store), FakeContext(actor()))
    flow.start()
    assert "lý do 1" in flow.question() and "(còn 3)" in flow.question()
    assert flow.labels() == ["Chấp thuận", "Từ chối", "Bỏ qua", "Dừng"]
    flow.press("reject")
    assert flow.step == "refusal" and "lý do từ chối" in flow.question()
    flow.type("Không có căn cứ")
    assert store.rows[1].status is ExtensionStatus.REJECTED
    assert store.rows[1].refusal == "Không có căn cứ"
    assert "Đã từ chối" in flow.question() and "lý do 2" in flow.question()
    flow.press("skip")
    assert "lý do 3" in flow.question()
    flow.press("approve")
    assert store.rows[3].status is ExtensionStatus.APPROVED
    assert store.rows[2].status is ExtensionStatus.PENDING  # skipped: still waiting
    assert flow.state is None and "Còn 1 đề nghị" in flow.said()[-1]


def test_a_focal_point_inside_the_flow_is_refused_and_nothing_changes():
    store = MemoryExtensions(1)
    ctx = FakeContext(actor(UserRole.FOCAL, "STP"))
    flow = FlowDriver(build_decide_flow(lambda c: store), ctx)
    flow.start()
    flow.press("approve")
    assert "Chỉ chuyên viên Sở Nội vụ" in flow.said()[0]
    flow.press("reject")
    assert flow.step == "pick"  # the reason is not even asked
    assert store.rows[1].status is ExtensionStatus.PENDING
    assert [a["outcome"] for a in ctx.audits if a["action"] == "extension_decide"] == [
        "refused",
        "refused",
    ]


def test_a_request_decided_meanwhile_by_another_coordinator_changes_nothing_and_says_so():
    store = MemoryExtensions(1, 2)
    flow = FlowDriver(build_decide_flow(lambda ctx: store), FakeContext(actor()))
    flow.start()
    store.decide(1, Decision.APPROVE, 9, "", NOW)  # another coordinator, in another chat
    flow.press("reject")
    flow.type("Không có căn cứ")
    assert store.rows[1].status is ExtensionStatus.APPROVED and store.rows[1].refusal == ""
    assert "người khác quyết định trước" in flow.question() and "lý do 2" in flow.question()
    store.decide(2, Decision.APPROVE, 9, "", NOW)
    flow.press("approve")
    assert "người khác quyết định trước" in flow.said()[-1]
