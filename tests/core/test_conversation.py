"""The flow engine, the registry and the role rules: pure core, no database, no channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from core import conversation as fe
from core.auth import may_invite, may_report
from core.commands import Actor, Registry, allowed
from core.conversation import (
    CANCEL,
    FINISH,
    Answer,
    AnswerKind,
    Choice,
    Expect,
    Flow,
    IncomingFile,
    Invalid,
    Limits,
    Step,
    parse_date,
    parse_number,
    say,
)
from core.model import UserRole

NOW = datetime(2024, 7, 1, tzinfo=UTC)


@dataclass
class Ctx:
    limits: Limits = field(default_factory=Limits)
    finished: list[dict] = field(default_factory=list)


def ask(name: str):
    return lambda ctx, data: say(f"t/{name}.j2")


def make_flow(**over) -> Flow:
    items = [Choice(f"v{i}", f"Mục {i}", (f"K{i}",)) for i in range(20)]

    def finish(ctx, data):
        ctx.finished.append(dict(data))
        return say("t/done.j2", n=len(ctx.finished))

    def must_not_be_v3(ctx, data):
        if data["pick"] == "v3":
            raise Invalid(say("t/no-v3.j2"))

    steps = [
        Step("pick", ask("pick"), Expect.CHOICE, choices=lambda c, d: items, after=must_not_be_v3),
        Step("note", ask("note"), skip=say("chat/button_skip.j2")),
        Step("amount", ask("amount"), Expect.NUMBER, when=lambda d: d["pick"] != "v0"),
        Step(
            "files",
            ask("files"),
            Expect.FILE,
            many=True,
            done=say("chat/button_done.j2"),
            skip=say("chat/button_skip.j2"),
            received=lambda c, d: say("t/got.j2", n=len(d["files"])),
            parse=lambda c, d, a: a.file.file_name,
        ),
        Step(
            "confirm",
            ask("confirm"),
            Expect.CHOICE,
            choices=lambda c, d: [Choice("ok", "OK"), Choice("edit", "Sửa"), Choice("no", "Huỷ")],
            next=lambda d: {"ok": FINISH, "no": CANCEL, "edit": "editmenu"}[d["confirm"]],
        ),
        Step(
            "editmenu",
            ask("editmenu"),
            Expect.CHOICE,
            choices=lambda c, d: [Choice("note", "Ghi chú")],
            next=lambda d: (d.__setitem__("_return", "confirm"), d["editmenu"])[1],
            when=lambda d: False,
        ),
    ]
    return Flow("demo", steps, finish, **over)


def press(flow, state, ctx, label: str):
    labels = [o.label for o in fe.ask(flow, state, ctx).options]
    state.seq -= 1  # ask() above re-issued the prompt; keep the counter honest for the test
    index = [str(x.template if hasattr(x, "template") else x) for x in labels].index(label)
    return fe.handle(flow, state, ctx, Answer.pressed(index), NOW)


def test_choice_pages_numbers_keys_and_the_whole_flow():
    flow, ctx = make_flow(), Ctx()
    out = fe.begin(flow, ctx, NOW)
    state = out.state
    assert state.step == "pick" and state.seq == 1 and state.data["_instance"] == state.instance
    labels = [o.label for o in out.ask.options]
    assert labels[:8] == [f"Mục {i}" for i in range(8)]
    assert labels[8].template == "chat/button_next.j2" and len(labels) == 9
    # next page: prev + next buttons, numbers pick from the page shown
    out = fe.handle(flow, state, ctx, Answer.pressed(8), NOW)
    assert out.page_turned and state.page == 1 and state.seq == 2
    assert [o.label for o in out.ask.options][:1] == ["Mục 8"]
    out = fe.handle(flow, state, ctx, Answer.typed("2"), NOW)
    assert state.data["pick"] == "v9" and state.step == "note"
    # skip is a button and a typed word
    out = fe.handle(flow, state, ctx, Answer.typed("Bỏ qua"), NOW)
    assert state.data["note"] is None and state.step == "amount"
    out = fe.handle(flow, state, ctx, Answer.typed("12,5 triệu"), NOW)
    assert state.data["amount"] == 12.5 and state.step == "files"
    assert [o.value for o in out.ask.options] == [fe.SKIP]
    pdf = IncomingFile("a.pdf", "application/pdf", 8, b"%PDF-1.7")
    out = fe.handle(flow, state, ctx, Answer(AnswerKind.FILE, file=pdf), NOW)
    assert out.say[0].template == "t/got.j2" and state.step == "files"
    assert [o.value for o in out.ask.options] == [fe.DONE]  # "Xong" replaces "Bỏ qua"
    out = fe.handle(flow, state, ctx, Answer.typed("xong"), NOW)
    assert state.data["files"] == ["a.pdf"] and state.step == "confirm"
    # edit menu → the chosen step → straight back to confirm
    out = fe.handle(flow, state, ctx, Answer.typed("Sửa"), NOW)
    assert state.step == "editmenu"
    out = fe.handle(flow, state, ctx, Answer.typed("1"), NOW)
    assert state.step == "note"
    out = fe.handle(flow, state, ctx, Answer.typed("ghi chú mới"), NOW)
    assert state.step == "confirm" and "_return" not in state.data
    out = fe.handle(flow, state, ctx, Answer.typed("ok"), NOW)
    assert out.finished and out.state is None and out.say[0].context == {"n": 1}
    assert ctx.finished[0]["note"] == "ghi chú mới"


def test_when_leaves_a_step_out_and_key_matches_other_pages():
    flow, ctx = make_flow(), Ctx()
    state = fe.begin(flow, ctx, NOW).state
    fe.handle(flow, state, ctx, Answer.typed("k0"), NOW)  # a key, case-insensitive
    assert state.data["pick"] == "v0"
    fe.handle(flow, state, ctx, Answer.typed("ghi chú"), NOW)
    assert state.step == "files"  # "amount" does not apply to v0


def test_invalid_answers_reprompt_without_changing_state():
    flow, ctx = make_flow(), Ctx(limits=Limits(max_text_chars=10))
    state = fe.begin(flow, ctx, NOW).state
    for answer, template in [
        (Answer.pressed(42), "chat/invalid_choice.j2"),
        (Answer(AnswerKind.OTHER, other="sticker"), "chat/invalid_media.j2"),
        (Answer.typed("không có"), "chat/invalid_choice_text.j2"),
        (Answer.typed("   "), "chat/invalid_empty.j2"),
        (
            Answer(AnswerKind.FILE, file=IncomingFile("a.pdf", "", 1, b"x")),
            "chat/invalid_file_here.j2",
        ),
        (Answer.typed("K3"), "t/no-v3.j2"),  # rejected by the after() hook
    ]:
        out = fe.handle(flow, state, ctx, answer, NOW)
        assert out.say[0].template == template and state.step == "pick"
        assert out.ask is not None
    assert "pick" not in state.data or state.data["pick"] is None
    fe.handle(flow, state, ctx, Answer.typed("K1"), NOW)
    out = fe.handle(flow, state, ctx, Answer.typed("quá mười ký tự rồi"), NOW)
    assert out.say[0].template == "chat/invalid_too_long.j2" and state.step == "note"
    fe.handle(flow, state, ctx, Answer.typed("ok"), NOW)
    out = fe.handle(flow, state, ctx, Answer.typed("mười hai"), NOW)
    assert out.say[0].template == "chat/invalid_number.j2"
    fe.handle(flow, state, ctx, Answer.typed("12"), NOW)
    for bad, template in [
        (IncomingFile("x.exe", "", 2, b"MZ"), "chat/invalid_file_type.j2"),
        (IncomingFile("big.pdf", "", 30 * 2**20, None), "chat/invalid_file_size.j2"),
    ]:
        out = fe.handle(flow, state, ctx, Answer(AnswerKind.FILE, file=bad), NOW)
        assert out.say[0].template == template
    out = fe.handle(flow, state, ctx, Answer.typed("đây"), NOW)
    assert out.say[0].template == "chat/invalid_text_for_file.j2"


def test_cancel_runs_cleanup():
    dropped: list[str] = []
    flow = make_flow(on_cancel=lambda ctx, data: dropped.append(data["_instance"]))
    ctx = Ctx()
    state = fe.begin(flow, ctx, NOW).state
    for typed in ("K1", "bỏ qua", "1", "bỏ qua", "Huỷ"):
        out = fe.handle(flow, state, ctx, Answer.typed(typed), NOW)
    assert out.cancelled and out.state is None and dropped == [state.instance]
    assert ctx.finished == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("05/07/2024", date(2024, 7, 5)),
        ("5-7-2024", date(2024, 7, 5)),
        ("2024-07-05", date(2024, 7, 5)),
        ("31/02/2024", None),
        ("07/2024", None),
        ("hôm qua", None),
    ],
)
def test_parse_date(typed, expected):
    assert parse_date(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("95", 95.0), ("95,5", 95.5), ("95.5 %", 95.5), ("-3", -3.0), ("x", None)],
)
def test_parse_number(typed, expected):
    assert parse_number(typed) == expected


def noop(ctx):
    return None


def test_registry_names_roles_channels():
    registry = Registry()
    registry.add_command("start", "Bắt đầu", noop, public=True)
    registry.add_command("baocao", "Báo cáo", noop, roles={UserRole.FOCAL})
    registry.add_command("kybaocao", "Kỳ báo cáo", noop, roles={UserRole.COORDINATOR})
    registry.add_command("dongvai", "Đổi vai", noop, public=True, channels={"console"})
    with pytest.raises(ValueError):
        registry.add_command("báo_cáo", "x", noop)
    with pytest.raises(ValueError):
        registry.add_command("start", "x", noop)
    with pytest.raises(ValueError):
        registry.add_button("flow", lambda c, p: None)
    names = lambda role, channel: [c.name for c in registry.menu(role, channel)]  # noqa: E731
    assert names(None, "telegram") == ["start"]
    assert names(UserRole.FOCAL, "telegram") == ["start", "baocao"]
    assert names(UserRole.COORDINATOR, "console") == ["start", "kybaocao", "dongvai"]
    assert registry.command_for("dongvai", "telegram") is None
    assert allowed(None, None) is False and allowed(UserRole.LEADER, None) is True


def actor(role: UserRole, agency_id: int | None = 7) -> Actor:
    return Actor(1, "telegram", "1", "1", role, agency_id)


@pytest.mark.parametrize(
    ("who", "agency", "assigned", "reason"),
    [
        (actor(UserRole.FOCAL), 7, True, None),
        (actor(UserRole.FOCAL), 8, True, "other_agency"),
        (actor(UserRole.FOCAL), 7, False, "not_assigned"),
        (actor(UserRole.COORDINATOR), 7, True, "not_focal"),
        (actor(UserRole.ADMIN), 7, True, "not_focal"),
        (actor(UserRole.FOCAL, None), 7, True, "other_agency"),
        (None, 7, True, "unlinked"),
    ],
)
def test_may_report(who, agency, assigned, reason):
    refusal = may_report(who, agency, assigned)
    assert (refusal.reason if refusal else None) == reason


def test_may_invite():
    assert may_invite(actor(UserRole.ADMIN), UserRole.ADMIN) is None
    assert may_invite(actor(UserRole.COORDINATOR), UserRole.FOCAL) is None
    assert may_invite(actor(UserRole.COORDINATOR), UserRole.ADMIN).reason == "role"
    assert may_invite(actor(UserRole.FOCAL), UserRole.FOCAL).reason == "role"
    assert may_invite(None, UserRole.FOCAL).reason == "unlinked"
