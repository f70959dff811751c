"""/tonghop: the compiled report in chat — a short summary, then the .xlsx, .docx and chart.

A short guided flow: "up to today" (one tap) or pick the plan, the reporting round, the area,
the kind of agency (whole-report users only) and the "as of" date. Who sees what is decided in
core (`core.report_model.scope_for`), checked when the command starts and again when the
report is built: coordinators, leaders and admins get the whole report, a focal point only
their own agency's part (whatever they picked), anyone else is refused and audited.

The files are written under `PARBOT_DATA_DIR/reports/` and sent as replies; folders older than
a day are removed on the next request.
"""

from __future__ import annotations

import secrets
import shutil
import time
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.settings import Settings
from core.commands import Registry
from core.conversation import FINISH, Choice, Expect, Flow, Invalid, Step, Text, say
from core.model import AgencyKind
from core.outgoing import Document, Outgoing
from core.report_model import ReportRefused, Scope, scope_for
from messages.render import environment
from messages.reports.build import MIME, Format, compile_report, file_name, write_output
from messages.reports.summary import summary_text
from storage.reports.query import ScopeError, letterhead
from storage.tables.shared import Area, Plan, ReportingRound

FLOW = "tonghop"
ALL = "*"
KEEP_SECONDS = 24 * 3600


@cache
def words() -> Any:
    return environment().get_template("report/chat_words.j2").module


def said(name: str, **args: Any) -> Text:
    """A prompt or label as a template reference (rendered by the channel adapter)."""
    return say("report/chat_say.j2", macro=name, args=args)


def _refusal(ctx: Any, reason: str) -> list[Outgoing]:
    ctx.audit("report_compiled", "tonghop", "refused", reason=reason)
    return [Outgoing(str(words().refused(reason)))]


def _allowed_scope(ctx: Any, requested: Scope) -> Scope:
    actor = ctx.actor
    return scope_for(actor.role if actor else None, actor.agency_code if actor else None, requested)


def start(ctx: Any) -> list[Outgoing]:
    try:
        scope = _allowed_scope(ctx, Scope())
    except ReportRefused as exc:
        return _refusal(ctx, exc.reason)
    plans = ctx.session.execute(select(Plan.code)).scalars().all()
    if not plans:
        return [Outgoing(str(words().no_plan()))]
    data = {
        "whole": scope.agency_code is None,
        "agency": ctx.actor.agency_name if scope.agency_code else "",
        "plans": len(plans),
    }
    return ctx.start_flow(FLOW, data)


# -- steps
def _mode_choices(ctx: Any, data: dict[str, Any]) -> list[Choice]:
    return [Choice("now", said("mode_now")), Choice("pick", said("mode_pick"))]


def _plan_choices(ctx: Any, data: dict[str, Any]) -> list[Choice]:
    plans = ctx.session.execute(select(Plan).order_by(Plan.year.desc(), Plan.code)).scalars()
    return [Choice(p.code, f"{p.code} — {p.title}", (p.code,)) for p in plans]


def _plan_id(ctx: Any, data: dict[str, Any]) -> int | None:
    query = select(Plan.id)
    if data.get("plan"):
        query = query.where(Plan.code == data["plan"])
    else:
        query = query.order_by(Plan.imported_at.desc())
    return ctx.session.execute(query.limit(1)).scalar_one_or_none()


def _round_choices(ctx: Any, data: dict[str, Any]) -> list[Choice]:
    plan_id = _plan_id(ctx, data)
    rounds = ctx.session.execute(
        select(ReportingRound)
        .where(ReportingRound.plan_id == plan_id)
        .order_by(ReportingRound.deadline, ReportingRound.code)
    ).scalars()
    return [Choice(ALL, said("all_rounds"))] + [
        Choice(r.code, f"{r.code} — {r.title}", (r.code,)) for r in rounds
    ]


def _area_choices(ctx: Any, data: dict[str, Any]) -> list[Choice]:
    plan_id = _plan_id(ctx, data)
    areas = ctx.session.execute(
        select(Area).where(Area.plan_id == plan_id).order_by(Area.position)
    ).scalars()
    return [Choice(ALL, said("all_areas"))] + [
        Choice(a.code, f"{a.code}. {a.title}", (a.code,)) for a in areas
    ]


def _kind_choices(ctx: Any, data: dict[str, Any]) -> list[Choice]:
    module: Any = environment().get_template("report/labels.j2").module  # template macros
    labels = module.kind
    return [Choice(ALL, said("all_kinds"))] + [
        Choice(k.value, str(labels[k.value]), (k.value,)) for k in AgencyKind
    ]


def _not_future(ctx: Any, data: dict[str, Any], value: Any) -> None:
    if value is None:
        return
    today = ctx.now.astimezone(_tz(ctx)).date()
    if date.fromisoformat(value) > today:
        raise Invalid(said("future_date", today=today))


def _tz(ctx: Any) -> ZoneInfo:
    return getattr(ctx, "tz", None) or ZoneInfo(Settings().timezone)


def _after_mode(data: dict[str, Any]) -> str:
    """One tap for "up to today"; otherwise the scope steps (plan only when there are several)."""
    if data["mode"] == "now":
        return FINISH
    return "plan" if data.get("plans", 1) > 1 else "round"


def build_flow() -> Flow:
    return Flow(
        name=FLOW,
        steps=[
            Step(
                "mode",
                lambda ctx, d: said("ask_mode", whole=d["whole"], agency=d["agency"]),
                expect=Expect.CHOICE,
                choices=_mode_choices,
                next=_after_mode,
            ),
            Step(
                "plan",
                lambda ctx, d: said("ask_plan"),
                expect=Expect.CHOICE,
                choices=_plan_choices,
                when=lambda d: d.get("plans", 1) > 1,
            ),
            Step(
                "round",
                lambda ctx, d: said("ask_round"),
                expect=Expect.CHOICE,
                choices=_round_choices,
            ),
            Step(
                "area",
                lambda ctx, d: said("ask_area"),
                expect=Expect.CHOICE,
                choices=_area_choices,
                page_size=9,
                columns=2,
            ),
            Step(
                "kind",
                lambda ctx, d: said("ask_kind"),
                expect=Expect.CHOICE,
                choices=_kind_choices,
                when=lambda d: bool(d.get("whole")),
            ),
            Step(
                "as_of",
                lambda ctx, d: said("ask_as_of"),
                expect=Expect.DATE,
                check=_not_future,
                skip=said("today"),
            ),
        ],
        finish=finish,
    )


# -- the report
def _picked(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value in (None, ALL, "") else str(value)


def _output_dir(settings: Settings, contact_id: int) -> Path:
    root = settings.data_dir / "reports"
    root.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in root.iterdir():
        if old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    folder = root / f"{contact_id}-{secrets.token_hex(6)}"
    folder.mkdir()
    return folder


def finish(ctx: Any, data: dict[str, Any]) -> list[Outgoing]:
    requested = Scope(
        plan_code=_picked(data, "plan"),
        round_code=_picked(data, "round"),
        area_code=_picked(data, "area"),
        agency_kind=_picked(data, "kind"),
        as_of=date.fromisoformat(data["as_of"]) if data.get("as_of") else None,
    )
    try:
        scope = _allowed_scope(ctx, requested)  # again: the link may have changed meanwhile
    except ReportRefused as exc:
        return _refusal(ctx, exc.reason)
    ctx.audit(
        "report_compiled",
        "tonghop",
        round=scope.round_code,
        area=scope.area_code,
        kind=scope.agency_kind,
        agency=scope.agency_code,
        as_of=(scope.as_of or ctx.now.astimezone(_tz(ctx)).date()).isoformat(),
    )
    tz, now, contact_id = _tz(ctx), ctx.now, ctx.actor.contact_id
    label = data.get("agency") or ""
    # Compiling reads much and writes nothing: it runs after this update commits, so other
    # users' updates are not held behind it.
    ctx.after_commit(lambda session: _compile_and_write(session, scope, tz, now, contact_id, label))
    return []


def _compile_and_write(
    session: Any, scope: Scope, tz: ZoneInfo, now: datetime, contact_id: int, label: str
) -> list[Outgoing]:
    settings = Settings()
    try:
        report = compile_report(session, scope, tz, now)
        head = letterhead(
            session,
            report.data.plan,
            settings.report_issuer,
            settings.report_place,
            settings.report_signer,
        )
    except ScopeError:
        return [Outgoing(str(words().scope_gone()))]
    if not report.data.tasks:
        return [Outgoing(str(words().empty(label)))]
    folder = _output_dir(settings, contact_id)
    replies = [Outgoing(summary_text(report))]
    for fmt in (Format.XLSX, Format.DOCX, Format.PNG):
        name = file_name(report, fmt)
        path = write_output(fmt, report, folder / name, tz, head, session)
        caption = str(words().caption(fmt.value, report.data.plan.code, report.data.as_of))
        attachment = Document(name, path=str(path), mime_type=MIME[fmt.value])
        if fmt is Format.PNG:
            replies.append(Outgoing(caption, photo=attachment))
        else:
            replies.append(Outgoing(caption, document=attachment))
    return replies


def register(registry: Registry) -> None:
    """Any linked user may ask; `scope_for` (core) narrows or refuses."""
    registry.add_flow(build_flow())
    registry.add_command("tonghop", str(words().description()), start)
