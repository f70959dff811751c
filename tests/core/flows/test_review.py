"""`/duyet` as a core flow over in-memory queue kinds: oldest first across kinds (a third kind
— an extension request, as `/giahan` will add — joins with one `add`), «Bỏ qua» moves on, a
return without a reason asks again, an item decided elsewhere is passed over, and an actor who
is not a coordinator is refused, audited, and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.commands import Actor
from core.conversation import Text, say
from core.flows.review import build_review_flow, start_data
from core.model import UserRole
from core.review import Action, Decided, DecisionRefused, QueueItem, QueueKinds
from tests.core.flows.driver import NOW, FakeContext, FlowDriver, actor


@dataclass
class MemoryKind:
    """A queue kind over a dict: key → (since, needs text?)."""

    name: str
    items: dict[str, datetime]
    asks_text: bool = False
    decided: dict[str, tuple[str, str]] = field(default_factory=dict)

    def waiting(self, limit: int) -> list[QueueItem]:
        left = sorted((at, key) for key, at in self.items.items() if key not in self.decided)
        return [QueueItem(self.name, key, at) for at, key in left[:limit]]

    def show(self, key: str) -> Text | None:
        return None if key in self.decided else say("review/queue_empty.j2")

    def actions(self, key: str) -> list[Action]:
        if key in self.decided:
            return []
        text = say("review/ask_reason.j2", r=None) if self.asks_text else None
        return [Action("go", say("review/button_accept.j2"), text)]

    def decide(self, actor: Actor, key: str, action: str, text: str, now: datetime) -> Decided:
        if key in self.decided:
            raise DecisionRefused("already_decided")
        self.decided[key] = (action, text)
        return Decided(action, f"{self.name}:{key}", say("review/queue_empty.j2"))


def queue(*kinds: MemoryKind) -> QueueKinds:
    return QueueKinds(kinds)


def test_oldest_first_across_kinds_and_a_new_kind_is_one_add():
    reports = MemoryKind("report", {"1": NOW, "2": NOW + timedelta(hours=3)})
    extensions = MemoryKind("extension", {"9": NOW + timedelta(hours=1)}, asks_text=True)
    kinds = queue(reports)
    kinds.add(extensions)  # the lead's one line for /giahan's requests
    flow = FlowDriver(build_review_flow(lambda ctx: kinds), FakeContext(actor()))
    data = start_data(kinds)
    assert data is not None and data["current"] == {"kind": "report", "key": "1"}
    flow.start(data)
    flow.press("go")
    assert reports.decided == {"1": ("go", "")}
    assert flow.state is not None and flow.state.data["current"] == {
        "kind": "extension",
        "key": "9",
    }
    flow.press("go")
    assert flow.step == "text"
    flow.type("  ")  # blank: asked again, nothing decided
    assert flow.step == "text" and "9" not in extensions.decided
    flow.type("Đồng ý đến 30/9")
    assert extensions.decided == {"9": ("go", "Đồng ý đến 30/9")}
    assert flow.state is not None and flow.state.data["current"] == {"kind": "report", "key": "2"}
    flow.press("skip")
    assert flow.state is None and "bỏ qua 1 mục" in flow.said()[0]
    assert [a["action"] for a in flow.ctx.audits] == ["review_go", "review_go"]


def test_an_item_decided_elsewhere_is_passed_over():
    reports = MemoryKind("report", {"1": NOW, "2": NOW + timedelta(hours=1)})
    kinds = queue(reports)
    flow = FlowDriver(build_review_flow(lambda ctx: kinds), FakeContext(actor()))
    flow.start(start_data(kinds))
    reports.decided["1"] = ("go", "")  # another coordinator, meanwhile
    flow.press("go")
    assert flow.state is not None and flow.state.data["current"]["key"] == "2"
    assert "đã được xử lý trước đó" in flow.question()


def test_a_focal_point_is_refused_audited_and_nothing_changes():
    reports = MemoryKind("report", {"1": NOW})
    kinds = queue(reports)
    ctx = FakeContext(actor(UserRole.FOCAL, "STP"))
    flow = FlowDriver(build_review_flow(lambda ctx: kinds), ctx)
    flow.start(start_data(kinds))
    flow.press("go")
    assert reports.decided == {}
    assert ctx.audits == [
        {
            "action": "review_go",
            "target": "report:1",
            "outcome": "refused",
            "reason": "not_coordinator",
        }
    ]
    assert "Chỉ điều phối viên" in flow.question()
