"""The chat feature: /start /help /nhiemvu /baocao /huy /moi /dongvai and their buttons.

Also the worked example of docs/chat-extensions.md: everything here goes through the same
registry that scheduling and reports use.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.features.extensions import deputy_invite
from bot.features.invite_throttle import tell_coordinators
from bot.features.round_documents import documents_of
from core.auth import invitable_roles, may_invite, may_report
from core.commands import STAFF, ChatContext, PressedButton, Registry, per_update
from core.conversation import Invalid
from core.evaluation import agency_tasks
from core.flows.report import FLOW as REPORT
from core.flows.report import ReportStore, build_report_flow, load_task
from core.flows.roleplay import FLOW as ROLEPLAY
from core.flows.roleplay import build_roleplay_flow
from core.model import UserRole
from core.names import NameMatch, split_role
from core.outgoing import Outgoing
from core.report_model import Scope, Verdict
from core.text import fold
from messages.render import render
from messages.reports.build import compile_report
from storage.agency_names import resolve_agency
from storage.chat.invites import RedeemStatus, create_invite, redeem_invite, wait_seconds
from storage.chat.reports import SqlReportStore
from storage.chat.state import ChatKey, actor_for, agency_by_code
from storage.reports.query import ScopeError

TASKS_PER_PAGE = 10
INVITE_DAYS = 7


def store_of(ctx: ChatContext) -> ReportStore:
    """One store per update (it caches the agency's task list between prompt and choices)."""
    return per_update(ctx, "reports", lambda: SqlReportStore(ctx.session, ctx.config.timezone))


def description(name: str) -> str:
    return render("chat/command_description.j2", command=name)


# -- /start, /help
def start(ctx: ChatContext) -> Outgoing:
    code = ctx.request.text.strip().split()[0] if ctx.request.text.strip() else ""
    if not code:
        if ctx.actor is None:
            console = ctx.request.channel == "console"
            return Outgoing(render("chat/start_unknown.j2", console=console))
        return Outgoing(render("chat/start_known.j2", actor=ctx.actor, commands=_menu(ctx)))
    request = ctx.request
    key = ChatKey(request.channel, request.chat_id, request.user_id)
    result = redeem_invite(ctx.session, code[:64], key, request.display_name, ctx.now)
    ok = result.status is RedeemStatus.OK
    ctx.audit("invite_redeem", "invite", "ok" if ok else "refused", status=result.status.value)
    if result.tripped is not None:  # too many wrong codes across accounts: coordinators told
        tell_coordinators(ctx.session, ctx.now, result.tripped)
    if not ok:
        return Outgoing(
            render(
                "chat/start_failed.j2",
                status=result.status.value,
                left=result.failures_left,
                until=result.locked_until,
                wait=wait_seconds(result, ctx.now),
            )
        )
    ctx.actor = actor_for(ctx.session, request.channel, request.user_id)
    return Outgoing(render("chat/start_linked.j2", actor=ctx.actor, commands=_menu(ctx)))


def help_(ctx: ChatContext) -> Outgoing:
    return Outgoing(
        render(
            "chat/help.j2",
            actor=ctx.actor,
            commands=_menu(ctx),
            console=ctx.request.channel == "console",
            in_flow=ctx.flow_name is not None,
        )
    )


def _menu(ctx: ChatContext) -> list[Any]:
    role = ctx.actor.role if ctx.actor else None
    return ctx.registry.menu(role, ctx.request.channel)


# -- /nhiemvu
def tasks(ctx: ChatContext) -> Outgoing:
    return tasks_page(ctx, 0)


def tasks_page(ctx: ChatContext, page: int) -> Outgoing:
    """The agency's tasks judged by the report's own evaluation (`core.evaluation`), as of
    today: the same words and numbers as /tonghop, overdue first."""
    if ctx.actor is None or ctx.actor.agency_id is None:
        return Outgoing(render("chat/tasks_no_agency.j2"))
    tz = ctx.config.timezone
    as_of = ctx.now.astimezone(tz).date()
    try:
        compiled = compile_report(
            ctx.session, Scope(agency_code=ctx.actor.agency_code, as_of=as_of), tz, ctx.now
        )
    except ScopeError:
        return Outgoing(render("chat/tasks_no_agency.j2"))
    items = agency_tasks(compiled, ctx.actor.agency_id)
    pages = max(1, -(-len(items) // TASKS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = items[page * TASKS_PER_PAGE : (page + 1) * TASKS_PER_PAGE]
    lead = sum(1 for item in items if item.lead)
    overdue = sum(1 for item in items if item.evaluation.verdict is Verdict.OVERDUE)
    row = []
    if page > 0:
        row.append(ctx.button(render("chat/button_prev.j2"), "tasks_page", {"page": page - 1}))
    if page < pages - 1:
        row.append(ctx.button(render("chat/button_next.j2"), "tasks_page", {"page": page + 1}))
    text = render(
        "chat/tasks.j2",
        agency=ctx.actor.agency_name,
        items=shown,
        as_of=as_of,
        page=page + 1,
        pages=pages,
        total=len(items),
        lead=lead,
        coordinate=len(items) - lead,
        overdue=overdue,
        focal=ctx.actor.role is UserRole.FOCAL,
    )
    return Outgoing(text, buttons=[row] if row else [])


def tasks_button(ctx: ChatContext, pressed: PressedButton) -> Outgoing:
    return tasks_page(ctx, int(pressed.args.get("page", 0)))


# -- /baocao and the reminder's "Báo cáo ngay"
def report(ctx: ChatContext) -> list[Outgoing]:
    ref = ctx.request.text.strip()
    if not ref:
        return ctx.start_flow(REPORT)
    store = store_of(ctx)
    wanted = fold(ref)
    agency_id = ctx.actor.agency_id if ctx.actor else None
    items = store.tasks_for(agency_id) if agency_id is not None else []
    match = next((t for t in items if fold(t.ref) == wanted), None)
    if match is None:
        return [Outgoing(render("chat/report_unknown_ref.j2", ref=ref[:40]))]
    return _report_at_status(ctx, store, match.task_id)


def report_task(ctx: ChatContext, pressed: PressedButton) -> list[Outgoing]:
    """A reminder's button: straight to the status step of the named task, if allowed."""
    try:
        task_id, agency_id = int(pressed.args["task_id"]), int(pressed.args["agency_id"])
    except (KeyError, TypeError, ValueError):
        ctx.audit("report_task", "malformed", "refused", args=pressed.args)
        return [Outgoing(render("chat/refused_button.j2"))]
    store = store_of(ctx)
    refusal = may_report(ctx.actor, agency_id, store.task(agency_id, task_id) is not None)
    if refusal is not None:
        ctx.audit(
            "report_task", f"task:{task_id} agency:{agency_id}", "refused", reason=refusal.reason
        )
        return [Outgoing(render("chat/report_refused.j2", reason=refusal.reason))]
    return _report_at_status(ctx, store, task_id)


def _report_at_status(ctx: ChatContext, store: ReportStore, task_id: int) -> list[Outgoing]:
    data: dict[str, Any] = {}
    try:
        load_task(ctx, data, store, task_id)
    except Invalid as exc:
        return [Outgoing(render(exc.reason.template, **exc.reason.context))]
    data["task"] = str(task_id)
    return ctx.start_flow(REPORT, data, step="status")


# -- /huy
def cancel(ctx: ChatContext) -> list[Outgoing]:
    return ctx.cancel_flow() or [Outgoing(render("chat/nothing_to_cancel.j2"))]


# -- /moi: invites from chat (coordinators and admins)
def invite(ctx: ChatContext) -> Outgoing:
    """/moi AGENCY [role]: the agency by code or name (an ambiguity is listed, never
    guessed), the role in Vietnamese ("đầu mối", "lãnh đạo"…), focal point by default."""
    assert ctx.actor is not None  # /moi is for staff and focal points
    if ctx.actor.role is UserRole.FOCAL:  # a deputy for its own agency (bot/features/extensions)
        return deputy_invite(ctx)
    roles = [r.value for r in invitable_roles(ctx.actor)]
    typed = ctx.request.text.strip()
    if not typed:
        return Outgoing(render("chat/invite_usage.j2", roles=roles, typed=None, candidates=[]))
    agency_text, role, _written = split_role(typed)
    role = role or UserRole.FOCAL
    match = resolve_agency(ctx.session, agency_text)
    agency = agency_by_code(ctx.session, match.code) if match.code else None
    if agency is None:
        return Outgoing(
            render(
                "chat/invite_usage.j2",
                roles=roles,
                typed=agency_text[:60],
                candidates=match.candidates[:8],
                more=max(0, len(match.candidates) - 8),
            )
        )
    refusal = may_invite(ctx.actor, role)
    if refusal is not None:
        ctx.audit("invite_create", f"agency:{agency.code} role:{role}", "refused")
        return Outgoing(render("chat/refused_role.j2", command="moi"))
    expires = ctx.now + timedelta(days=INVITE_DAYS)
    code = create_invite(ctx.session, agency.id, role, expires, ctx.request.actor_key, ctx.now)
    ctx.audit("invite_create", f"agency:{agency.code} role:{role}", expires=expires.isoformat())
    return Outgoing(
        render(
            "chat/invite_created.j2",
            code=code,
            link=ctx.invite_link(code),
            agency=agency.name,
            role=role.value,
            expires=expires,
        )
    )


# -- /dongvai: console only
class ConsoleDirectory:
    """`core.flows.roleplay.Directory`: search agencies, link through a one-time invite."""

    def __init__(self, ctx: ChatContext) -> None:
        self.ctx = ctx

    def find_agencies(self, typed: str) -> NameMatch:
        return resolve_agency(self.ctx.session, typed)

    def link(self, ctx: ChatContext, agency_code: str, role: UserRole) -> None:
        agency = agency_by_code(ctx.session, agency_code)
        assert agency is not None
        code = create_invite(
            ctx.session, agency.id, role, ctx.now + timedelta(minutes=5), "console", ctx.now
        )
        request = ctx.request
        key = ChatKey(request.channel, request.chat_id, request.user_id)
        result = redeem_invite(ctx.session, code, key, request.display_name, ctx.now)
        if result.status is not RedeemStatus.OK:
            raise RuntimeError(f"console link failed: {result.status}")
        ctx.audit("roleplay", f"agency:{agency_code} role:{role}")
        ctx.actor = actor_for(ctx.session, request.channel, request.user_id)


def roleplay(ctx: ChatContext) -> list[Outgoing]:
    return ctx.start_flow(ROLEPLAY)


def register(registry: Registry) -> None:
    focal = {UserRole.FOCAL}
    registry.add_flow(build_report_flow(store_of, documents_of))
    registry.add_flow(build_roleplay_flow(ConsoleDirectory))
    registry.add_command("start", description("start"), start, public=True)
    registry.add_command("help", description("help"), help_, public=True)
    registry.add_command("nhiemvu", description("nhiemvu"), tasks)
    registry.add_command("baocao", description("baocao"), report, roles=focal)
    registry.add_command("huy", description("huy"), cancel, public=True)
    registry.add_command("moi", description("moi"), invite, roles=STAFF | focal)
    registry.add_command(
        "dongvai", description("dongvai"), roleplay, public=True, channels={"console"}
    )
    registry.add_button("report_task", report_task, roles=focal)
    registry.add_button("tasks_page", tasks_button, edit=True)
