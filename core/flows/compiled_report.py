"""/tonghop: the compiled report in chat — a short summary, then the .xlsx, .docx and chart.

A short guided flow: "up to today" (one tap) or pick the plan (when there are several), the
reporting round, the area, the kind of agency (whole-report users only) and the "as of" date
(not after today). Who sees what is decided in core (`core.report_model.scope_for`), checked
when the command starts and again when the report is built: coordinators, leaders and admins
get the whole report, a focal point only their own agency's part (whatever they picked),
anyone else is refused and audited.

The choices come through the `ReportScopes` port (storage/reports/query.py
`SqlReportScopes`). Compiling reads much and writes nothing, so the flow hands it to
`ctx.after_commit` as a job built by the `CompileJob` port (messages/reports/in_chat.py):
other users' updates are not held behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from core.auth import Seat
from core.commands import ChatConfig, ChatContext
from core.conversation import FINISH, Choice, Expect, Flow, Invalid, Step, Text, say
from core.model import AgencyKind
from core.outgoing import Outgoing
from core.report_model import ReportRefused, Scope, scope_for

FLOW = "tonghop"
ALL = "*"
WORDS = "report/chat_say.j2"  # renders one macro of report/chat_words.j2


@dataclass(frozen=True)
class ScopeChoice:
    """A plan, round or area offered as a choice: its code and its title."""

    code: str
    title: str


class ReportScopes(Protocol):
    def plans(self) -> list[ScopeChoice]:
        """Every plan, newest year first."""
        ...

    def rounds(self, plan_code: str | None) -> list[ScopeChoice]:
        """The plan's rounds by deadline; `None`: the plan imported last."""
        ...

    def areas(self, plan_code: str | None) -> list[ScopeChoice]: ...

    def seat(self, agency_id: int | None, report_issuer: str) -> Seat:
        """Where a reader linked to `agency_id` sits (core.auth.Seat): the leader rule."""
        ...


ScopesOf = Callable[[ChatContext], ReportScopes]
# (config, allowed scope, now, contact id, agency label) -> the after-commit job of the replies
AfterCommitJob = Callable[[Any], Sequence[Outgoing]]
CompileJob = Callable[[ChatConfig, Scope, datetime, int, str], AfterCommitJob]


def said(name: str, **args: Any) -> Text:
    """A prompt or label as a template reference (rendered by the channel adapter)."""
    return say(WORDS, macro=name, args=args)


def words(ctx: ChatContext, name: str, **args: Any) -> str:
    return ctx.render(WORDS, macro=name, args=args)


def _refusal(ctx: ChatContext, reason: str) -> list[Outgoing]:
    ctx.audit("report_compiled", "tonghop", "refused", reason=reason)
    return [Outgoing(words(ctx, "refused", reason=reason))]


def _allowed_scope(ctx: ChatContext, scopes: ReportScopes, requested: Scope) -> Scope:
    actor = ctx.actor
    if actor is None:
        return scope_for(None, None, requested)
    seat = scopes.seat(actor.agency_id, ctx.config.report_issuer)
    return scope_for(actor.role, seat, requested)


def _today(ctx: ChatContext) -> date:
    return ctx.now.astimezone(ctx.config.timezone).date()


def _picked(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value in (None, ALL, "") else str(value)


def start(ctx: ChatContext, scopes: ReportScopes) -> list[Outgoing]:
    """The /tonghop command: refuse early, or open the flow at its first question."""
    try:
        scope = _allowed_scope(ctx, scopes, Scope())
    except ReportRefused as exc:
        return _refusal(ctx, exc.reason)
    plans = scopes.plans()
    if not plans:
        return [Outgoing(words(ctx, "no_plan"))]
    own = scope.agency_code is not None and ctx.actor is not None
    data = {
        "whole": scope.agency_code is None,
        "agency": ctx.actor.agency_name if own and ctx.actor else "",
        "plans": len(plans),
    }
    return ctx.start_flow(FLOW, data)


def _after_mode(data: dict[str, Any]) -> str:
    """One tap for "up to today"; otherwise the scope steps (plan only when there are several)."""
    if data["mode"] == "now":
        return FINISH
    return "plan" if data.get("plans", 1) > 1 else "round"


def build_compiled_report_flow(scopes_of: ScopesOf, compile_job: CompileJob) -> Flow:
    """The /tonghop flow, wired to its ports (storage and messages, or fakes in unit tests)."""

    def mode_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [Choice("now", said("mode_now")), Choice("pick", said("mode_pick"))]

    def plan_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [
            Choice(p.code, f"{p.code} — {p.title}", (p.code,)) for p in scopes_of(ctx).plans()
        ]

    def round_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        rounds = scopes_of(ctx).rounds(data.get("plan") or None)
        return [Choice(ALL, said("all_rounds"))] + [
            Choice(r.code, f"{r.code} — {r.title}", (r.code,)) for r in rounds
        ]

    def area_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        areas = scopes_of(ctx).areas(data.get("plan") or None)
        return [Choice(ALL, said("all_areas"))] + [
            Choice(a.code, f"{a.code}. {a.title}", (a.code,)) for a in areas
        ]

    def kind_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        # typed labels ("UBND cấp huyện") are accepted too, so the label is rendered here
        return [Choice(ALL, said("all_kinds"))] + [
            Choice(k.value, words(ctx, "kind_label", kind=k.value), (k.value,))
            for k in AgencyKind
        ]

    def not_future(ctx: ChatContext, data: dict[str, Any], value: Any) -> None:
        if value is None:
            return
        today = _today(ctx)
        if date.fromisoformat(value) > today:
            raise Invalid(said("future_date", today=today))

    def finish(ctx: ChatContext, data: dict[str, Any]) -> list[Outgoing]:
        requested = Scope(
            plan_code=_picked(data, "plan"),
            round_code=_picked(data, "round"),
            area_code=_picked(data, "area"),
            agency_kind=_picked(data, "kind"),
            as_of=date.fromisoformat(data["as_of"]) if data.get("as_of") else None,
        )
        try:
            # again: the link may have changed meanwhile
            scope = _allowed_scope(ctx, scopes_of(ctx), requested)
        except ReportRefused as exc:
            return _refusal(ctx, exc.reason)
        assert ctx.actor is not None  # scope_for refuses unlinked users
        ctx.audit(
            "report_compiled",
            "tonghop",
            round=scope.round_code,
            area=scope.area_code,
            kind=scope.agency_kind,
            agency=scope.agency_code,
            as_of=(scope.as_of or _today(ctx)).isoformat(),
        )
        label = data.get("agency") or ""
        ctx.after_commit(compile_job(ctx.config, scope, ctx.now, ctx.actor.contact_id, label))
        return []

    return Flow(
        name=FLOW,
        steps=[
            Step(
                "mode",
                lambda ctx, d: said("ask_mode", whole=d["whole"], agency=d["agency"]),
                expect=Expect.CHOICE,
                choices=mode_choices,
                next=_after_mode,
            ),
            Step(
                "plan",
                lambda ctx, d: said("ask_plan"),
                expect=Expect.CHOICE,
                choices=plan_choices,
                when=lambda d: d.get("plans", 1) > 1,
            ),
            Step(
                "round",
                lambda ctx, d: said("ask_round"),
                expect=Expect.CHOICE,
                choices=round_choices,
            ),
            Step(
                "area",
                lambda ctx, d: said("ask_area"),
                expect=Expect.CHOICE,
                choices=area_choices,
                page_size=9,
                columns=2,
            ),
            Step(
                "kind",
                lambda ctx, d: said("ask_kind"),
                expect=Expect.CHOICE,
                choices=kind_choices,
                when=lambda d: bool(d.get("whole")),
            ),
            Step(
                "as_of",
                lambda ctx, d: said("ask_as_of"),
                expect=Expect.DATE,
                check=not_future,
                skip=said("today"),
            ),
        ],
        finish=finish,
    )
