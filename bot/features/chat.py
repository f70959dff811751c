"""The chat feature: /start /help /nhiemvu /baocao /huy /moi /dongvai and their buttons.

Also the worked example of docs/chat-extensions.md: everything here goes through the same
registry that scheduling and reports use.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.auth import invitable_roles, may_invite, may_report
from core.commands import STAFF, PressedButton, Registry
from core.conversation import Invalid
from core.flows.report import FLOW as REPORT
from core.flows.report import ReportStore, build_report_flow, load_task
from core.flows.roleplay import FLOW as ROLEPLAY
from core.flows.roleplay import build_roleplay_flow
from core.model import UserRole
from core.outgoing import Outgoing
from core.text import fold
from messages.render import render
from storage.chat.invites import RedeemStatus, create_invite, redeem_invite
from storage.chat.reports import SqlReportStore
from storage.chat.state import ChatKey, actor_for, agency_by_code, find_agencies

TASKS_PER_PAGE = 10
INVITE_DAYS = 7
_ROLE_WORDS = {
    "focal": UserRole.FOCAL,
    "dau moi": UserRole.FOCAL,
    "daumoi": UserRole.FOCAL,
    "coordinator": UserRole.COORDINATOR,
    "dieu phoi": UserRole.COORDINATOR,
    "dieuphoi": UserRole.COORDINATOR,
    "leader": UserRole.LEADER,
    "lanh dao": UserRole.LEADER,
    "lanhdao": UserRole.LEADER,
    "admin": UserRole.ADMIN,
    "quan tri": UserRole.ADMIN,
}


def store_of(ctx: Any) -> ReportStore:
    """One store per update (it caches the agency's task list between prompt and choices)."""
    store = ctx.cache.get("reports")
    if store is None:
        store = ctx.cache["reports"] = SqlReportStore(ctx.session, getattr(ctx, "tz", None))
    return store


def description(name: str) -> str:
    return render("chat/command_description.j2", command=name)


def invite_link(ctx: Any, code: str) -> str | None:
    """The channel adapter's link for the code, or None: the template then says to send
    `/start CODE` to the bot."""
    return ctx.invite_link(code)


# -- /start, /help
def start(ctx: Any) -> Outgoing:
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
    if not ok:
        return Outgoing(
            render(
                "chat/start_failed.j2",
                status=result.status.value,
                left=result.failures_left,
                until=result.locked_until,
            )
        )
    ctx.actor = actor_for(ctx.session, request.channel, request.user_id)
    return Outgoing(render("chat/start_linked.j2", actor=ctx.actor, commands=_menu(ctx)))


def help_(ctx: Any) -> Outgoing:
    return Outgoing(
        render(
            "chat/help.j2",
            actor=ctx.actor,
            commands=_menu(ctx),
            console=ctx.request.channel == "console",
            in_flow=ctx.flow_name is not None,
        )
    )


def _menu(ctx: Any) -> list[Any]:
    role = ctx.actor.role if ctx.actor else None
    return ctx.registry.menu(role, ctx.request.channel)


# -- /nhiemvu
def tasks(ctx: Any) -> Outgoing:
    return tasks_page(ctx, 0)


def tasks_page(ctx: Any, page: int) -> Outgoing:
    if ctx.actor is None or ctx.actor.agency_id is None:
        return Outgoing(render("chat/tasks_no_agency.j2"))
    items = store_of(ctx).tasks_for(ctx.actor.agency_id)
    pages = max(1, -(-len(items) // TASKS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = items[page * TASKS_PER_PAGE : (page + 1) * TASKS_PER_PAGE]
    groups: list[dict[str, Any]] = []
    for item in shown:
        if not groups or groups[-1]["code"] != item.area_code:
            groups.append({"code": item.area_code, "title": item.area_title, "tasks": []})
        groups[-1]["tasks"].append(item)
    row = []
    if page > 0:
        row.append(ctx.button(render("chat/button_prev.j2"), "tasks_page", {"page": page - 1}))
    if page < pages - 1:
        row.append(ctx.button(render("chat/button_next.j2"), "tasks_page", {"page": page + 1}))
    text = render(
        "chat/tasks.j2",
        agency=ctx.actor.agency_name,
        groups=groups,
        page=page + 1,
        pages=pages,
        total=len(items),
        focal=ctx.actor.role is UserRole.FOCAL,
    )
    return Outgoing(text, buttons=[row] if row else [])


def tasks_button(ctx: Any, pressed: PressedButton) -> Outgoing:
    return tasks_page(ctx, int(pressed.args.get("page", 0)))


# -- /baocao and the reminder's "Báo cáo ngay"
def report(ctx: Any) -> list[Outgoing]:
    ref = ctx.request.text.strip()
    if not ref:
        return ctx.start_flow(REPORT)
    store = store_of(ctx)
    wanted = fold(ref)
    match = next((t for t in store.tasks_for(ctx.actor.agency_id) if fold(t.ref) == wanted), None)
    if match is None:
        return [Outgoing(render("chat/report_unknown_ref.j2", ref=ref[:40]))]
    return _report_at_status(ctx, store, match.task_id)


def report_task(ctx: Any, pressed: PressedButton) -> list[Outgoing]:
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


def _report_at_status(ctx: Any, store: ReportStore, task_id: int) -> list[Outgoing]:
    data: dict[str, Any] = {}
    try:
        load_task(ctx, data, store, task_id)
    except Invalid as exc:
        return [Outgoing(render(exc.reason.template, **exc.reason.context))]
    data["task"] = str(task_id)
    return ctx.start_flow(REPORT, data, step="status")


# -- /huy
def cancel(ctx: Any) -> list[Outgoing]:
    return ctx.cancel_flow() or [Outgoing(render("chat/nothing_to_cancel.j2"))]


# -- /moi: invites from chat (coordinators and admins)
def invite(ctx: Any) -> Outgoing:
    words = ctx.request.text.split()
    roles = invitable_roles(ctx.actor)
    if not words:
        return Outgoing(
            render("chat/invite_usage.j2", roles=[r.value for r in roles], bad_agency=None)
        )
    agency = agency_by_code(ctx.session, words[0])
    role = _ROLE_WORDS.get(fold(" ".join(words[1:])) or "focal")
    if agency is None or role is None:
        return Outgoing(
            render(
                "chat/invite_usage.j2",
                roles=[r.value for r in roles],
                bad_agency=words[0][:20] if agency is None else None,
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
            link=invite_link(ctx, code),
            agency=agency.name,
            role=role.value,
            expires=expires,
        )
    )


# -- /dongvai: console only
class ConsoleDirectory:
    """`core.flows.roleplay.Directory`: search agencies, link through a one-time invite."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def find_agencies(self, typed: str) -> list[tuple[str, str]]:
        return find_agencies(self.ctx.session, typed)

    def link(self, ctx: Any, agency_code: str, role: UserRole) -> None:
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


def roleplay(ctx: Any) -> list[Outgoing]:
    return ctx.start_flow(ROLEPLAY)


def register(registry: Registry) -> None:
    focal = {UserRole.FOCAL}
    registry.add_flow(build_report_flow(store_of))
    registry.add_flow(build_roleplay_flow(ConsoleDirectory))
    registry.add_command("start", description("start"), start, public=True)
    registry.add_command("help", description("help"), help_, public=True)
    registry.add_command("nhiemvu", description("nhiemvu"), tasks)
    registry.add_command("baocao", description("baocao"), report, roles=focal)
    registry.add_command("huy", description("huy"), cancel, public=True)
    registry.add_command("moi", description("moi"), invite, roles=STAFF)
    registry.add_command(
        "dongvai", description("dongvai"), roleplay, public=True, channels={"console"}
    )
    registry.add_button("report_task", report_task, roles=focal)
    registry.add_button("tasks_page", tasks_button, edit=True)
