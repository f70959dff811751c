"""The /kybaocao flow through its `RoundStore` port, with an in-memory store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from core.flows.rounds import RoundDraft, RoundInfo, RoundRefused, build_round_flow
from core.rounds import Audience
from tests.core.flows.driver import FakeContext, FlowDriver, actor


@dataclass
class MemoryRounds:
    rounds: dict[str, RoundInfo] = field(default_factory=dict)
    refs: set[str] = field(default_factory=lambda: {"I.1", "I.2", "III.4.1"})
    agencies: dict[str, str] = field(
        default_factory=lambda: {"STP": "Sở Tư pháp", "STC": "Sở Tài chính", "SYT": "Sở Y tế"}
    )
    created: list[RoundDraft] = field(default_factory=list)
    refuse: str | None = None

    def open_rounds(self) -> list[RoundInfo]:
        return [r for r in self.rounds.values() if r.status == "open"]

    def round(self, code: str) -> RoundInfo | None:
        return self.rounds.get(code)

    def unknown_refs(self, refs: Sequence[str]) -> list[str]:
        return [r for r in refs if r not in self.refs]

    def find_agencies(self, typed: str, limit: int) -> list[tuple[str, str]]:
        wanted = typed.lower()
        found = [(c, n) for c, n in self.agencies.items() if wanted in (c.lower(), n.lower())]
        if not found:
            found = [(c, n) for c, n in self.agencies.items() if n.lower().startswith(wanted)]
        return found[:limit]

    def create(self, draft: RoundDraft) -> RoundInfo:
        if self.refuse:
            raise RoundRefused(self.refuse)
        self.created.append(draft)
        row = RoundInfo(f"R-{len(self.created)}", draft.title, draft.deadline)
        self.rounds[row.code] = row
        return row

    def set_deadline(self, code: str, deadline: date) -> RoundInfo:
        self.rounds[code] = replace(self.rounds[code], deadline=deadline)
        return self.rounds[code]

    def close(self, code: str) -> RoundInfo:
        self.rounds[code] = replace(self.rounds[code], status="closed")
        return self.rounds[code]


def driver(store: MemoryRounds) -> tuple[FlowDriver, FakeContext]:
    ctx = FakeContext(actor())
    return FlowDriver(build_round_flow(lambda c: store), ctx), ctx


def test_a_new_round_for_typed_agencies_is_created_as_confirmed():
    store = MemoryRounds()
    flow, ctx = driver(store)
    flow.start()
    assert flow.options == ["new"]  # no open round yet
    flow.press("new")
    flow.type("Báo cáo 6 tháng")
    flow.type("01/01/2024")
    assert "Ngày này đã qua" in flow.said()[0] and flow.step == "deadline"
    flow.type("19/07/2024")
    flow.press("agencies")
    flow.type("STP, Sở, không có")
    assert flow.step == "agencies" and "Sở, không có" in flow.said()[0]
    flow.type("stp; Sở Tài chính")
    flow.press("@skip")
    flow.press("monthly")
    assert "19/07/2024" in flow.question() and flow.labels() == ["✅ Gửi", "✖ Huỷ"]
    done = flow.press("ok")
    assert done.finished and "Đã tạo kỳ báo cáo R-1" in flow.said()[0]
    (draft,) = store.created
    assert draft.audience == Audience(agencies=("STP", "STC"))
    assert (draft.deadline, draft.opens_on) == (date(2024, 7, 19), date(2024, 7, 1))
    assert (draft.recurrence, draft.ask, draft.created_by) == ("monthly", "", 1)
    assert ctx.audits == [{"action": "round_create", "target": "R-1", "outcome": "ok",
                           "deadline": "2024-07-19"}]


def test_task_refs_must_exist_and_cancel_creates_nothing():
    store = MemoryRounds()
    flow, ctx = driver(store)
    flow.start()
    flow.press("new")
    flow.type("Rà soát TTHC")
    flow.type("30/09/2024")
    flow.press("tasks")
    flow.type("I.1, IX.9")
    assert flow.step == "tasks" and "IX.9" in flow.said()[0]
    flow.type("I.1 III.4.1")
    flow.press("@skip")
    flow.press("none")
    cancelled = flow.press("no")
    assert cancelled.cancelled and store.created == [] and ctx.audits == []


def test_an_open_round_gets_a_new_deadline_or_is_closed():
    store = MemoryRounds(rounds={"KH": RoundInfo("KH", "Kế hoạch cải thiện", date(2024, 7, 5))})
    flow, ctx = driver(store)
    flow.start()
    assert flow.options == ["new", "KH"]
    flow.press("KH")
    flow.press("deadline")
    flow.type("12/07/2024")
    assert "Đổi hạn từ 05/07/2024" in flow.question()
    flow.press("ok")
    assert store.rounds["KH"].deadline == date(2024, 7, 12)
    assert "12/07/2024" in flow.said()[0]

    flow.start()
    flow.press("KH")
    flow.press("close")
    flow.press("ok")
    assert store.rounds["KH"].status == "closed" and "Đã đóng kỳ báo cáo KH" in flow.said()[0]
    assert [a["action"] for a in ctx.audits] == ["round_deadline", "round_close"]


def test_a_refusal_of_the_store_is_shown_and_audited():
    store = MemoryRounds(refuse="mã kỳ báo cáo đã có")
    flow, ctx = driver(store)
    flow.start()
    flow.press("new")
    flow.type("Kỳ trùng")
    flow.type("19/07/2024")
    flow.press("all")
    flow.press("@skip")
    flow.press("none")
    flow.press("ok")
    assert "mã kỳ báo cáo đã có" in flow.said()[0]
    assert ctx.audits[0]["outcome"] == "refused" and store.created == []
