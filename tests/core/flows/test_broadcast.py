"""The /nhacnho flow through its `BroadcastStore` port, with an in-memory store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from core.broadcast import AudienceKind, BroadcastAudience, Recipient
from core.calendar import WorkCalendar
from core.flows.broadcast import AreaInfo, AudienceRefused, BroadcastDraft, build_broadcast_flow
from core.flows.rounds import RoundInfo
from tests.core.flows.driver import FakeContext, FlowDriver, actor

STP, STC, SYT = 21, 22, 23


@dataclass
class MemoryBroadcasts:
    """Focal points by agency code; audiences resolved by simple rules."""

    focal: dict[str, list[Recipient]] = field(
        default_factory=lambda: {
            "STP": [Recipient(1, "test", "c1", STP), Recipient(2, "console", "c2", STP)],
            "STC": [Recipient(3, "test", "c3", STC)],
            "SYT": [],
        }
    )
    not_reported: dict[str, list[str]] = field(default_factory=lambda: {"KH": ["STC"]})
    sent: list[BroadcastDraft] = field(default_factory=list)

    def recipients(self, audience: BroadcastAudience, today: date) -> list[Recipient]:
        kind = audience.kind
        if kind is AudienceKind.ALL_FOCAL:
            codes = list(self.focal)
        elif kind is AudienceKind.OVERDUE:
            codes = []
        elif kind is AudienceKind.NOT_REPORTED:
            codes = self.not_reported.get(audience.value or "", [])
        elif kind is AudienceKind.PICKED:
            codes = list(audience.codes)
        elif kind is AudienceKind.AREA:
            raise AudienceRefused(f"không có lĩnh vực {audience.value}")
        else:
            codes = ["STP", "STC", "SYT"] if audience.value == "department" else []
        return [r for code in codes for r in self.focal.get(code, [])]

    def calendar(self, today: date) -> WorkCalendar:
        return WorkCalendar()

    def open_rounds(self) -> list[RoundInfo]:
        return [RoundInfo("KH", "Kế hoạch cải thiện", date(2024, 7, 5))]

    def areas(self) -> list[AreaInfo]:
        return [AreaInfo("I", "Công tác chỉ đạo, điều hành"), AreaInfo("IX", "Đã bỏ")]

    def find_agencies(self, typed: str, limit: int) -> list[tuple[str, str]]:
        names = {"STP": "sở tư pháp", "STC": "sở tài chính", "SYT": "sở y tế"}
        wanted = typed.lower()
        return [(c, n) for c, n in names.items() if wanted in (c.lower(), n)][:limit]

    def send(self, draft: BroadcastDraft) -> int:
        self.sent.append(draft)
        return len(draft.targets)


def driver(store: MemoryBroadcasts, now: datetime | None = None) -> FlowDriver:
    ctx = FakeContext(actor())
    if now is not None:
        ctx.now = now
    return FlowDriver(build_broadcast_flow(lambda c: store), ctx)


def test_the_preview_counts_people_and_agencies_and_sending_queues_them():
    store = MemoryBroadcasts()
    flow = driver(store)
    flow.start()
    flow.press("all")
    flow.type("Đề nghị gửi báo cáo quý trước 30/9.")
    preview = flow.question()
    assert "Số người nhận: 3 (đầu mối của 2 cơ quan)" in preview
    assert "📢 Nhắc nhở từ Chị Hoa:\n\nĐề nghị gửi báo cáo quý" in preview
    assert "Ngoài giờ hành chính" not in preview  # 09:00 on a Monday
    flow.press("ok")
    assert "Đã xếp hàng 3 tin" in flow.said()[0]
    (draft,) = store.sent
    assert draft.audience == BroadcastAudience(AudienceKind.ALL_FOCAL)
    assert [t.contact_id for t in draft.targets] == [1, 2, 3]
    assert draft.message.text.startswith("📢 Nhắc nhở từ Chị Hoa")
    assert (draft.sender_id, draft.actor) == (1, "test:u1")


def test_an_audience_that_reaches_nobody_is_refused_before_the_text():
    store = MemoryBroadcasts()
    flow = driver(store)
    flow.start()
    flow.press("overdue")
    assert flow.step == "audience" and "Không có đầu mối nào" in flow.said()[0]
    flow.press("picked")
    flow.type("Sở Y tế")
    assert flow.step == "picked" and "Không có đầu mối nào" in flow.said()[0]
    flow.type("stp, xyz")
    assert flow.step == "picked" and "xyz" in flow.said()[0]
    flow.type("STP; sở tài chính")
    flow.type("Họp giao ban thứ Sáu.")
    assert "Số người nhận: 3" in flow.question() and "STP, STC" in flow.question()
    flow.press("no")
    assert store.sent == []


def test_a_round_audience_and_an_unknown_area_explain_themselves():
    store = MemoryBroadcasts()
    flow = driver(store)
    flow.start()
    flow.press("round")
    assert flow.options == ["KH"]
    flow.press("KH")
    assert flow.step == "text"
    flow.start()
    flow.press("area")
    flow.press("IX")
    assert flow.step == "area" and "không có lĩnh vực IX" in flow.said()[0]


def test_outside_office_hours_the_preview_says_when_it_goes_out():
    store = MemoryBroadcasts()
    flow = driver(store, now=datetime(2024, 7, 1, 13, 0, tzinfo=UTC))  # 20:00 in Hà Nội
    flow.start()
    flow.press("all")
    flow.type("Nhắc nộp báo cáo.")
    assert "tin sẽ được gửi lúc 07:30 02/07/2024" in flow.question()
