"""Extension requests (/giahan, «Xin gia hạn») and deputies (/moi by a focal point, the
absence in /caidat): the chat glue.

Thin on purpose: the flows are in core/flows/extension.py and core/flows/absence.py, the rules
in core (auth, extensions, deputies), the data in storage (extensions.py, deputies.py) and the
messages they cause in messages/extensions.py. Registered after the chat feature (bot/app.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from core.auth import may_invite_deputy
from core.commands import STAFF, ChatContext, PressedButton, Registry, per_update
from core.conversation import Invalid, Text
from core.flows.absence import FLOW as ABSENCE_FLOW
from core.flows.absence import AbsenceStore, build_absence_flow
from core.flows.extension import REQUEST_FLOW, build_request_flow, load_request_task
from core.flows.report import FLOW as REPORT_FLOW
from core.flows.review import FLOW as REVIEW_FLOW
from core.flows.review import start_data
from core.model import ReportStatus, UserRole
from core.names import split_role
from core.outgoing import Button, Outgoing
from messages.extensions import EXTENSION, QUEUE_ACTION, ExtensionService
from messages.render import render
from messages.review import queue_for
from storage.agency_names import resolve_agency
from storage.chat.invites import create_invite
from storage.chat.state import agency_by_code
from storage.deputies import SqlAbsenceStore, deputies_of, seat_of, set_absence

FOCAL = frozenset({UserRole.FOCAL})
INVITE_DAYS = 7


def extension_store(ctx: ChatContext) -> ExtensionService:
    return per_update(
        ctx, "extensions", lambda: ExtensionService(ctx.session, ctx.config.timezone)
    )


def absence_store(ctx: ChatContext) -> AbsenceStore:
    return SqlAbsenceStore(ctx.session)


def _today(ctx: ChatContext) -> date:
    return ctx.now.astimezone(ctx.config.timezone).date()


# ---------------------------------------------------------------------------- asking
def start_request(ctx: ChatContext, agency_id: int | None, task_id: int | None) -> list[Outgoing]:
    """«Xin gia hạn» from a reminder or a report receipt: the task named, or a list to pick."""
    actor_agency = ctx.actor.agency_id if ctx.actor else None
    if agency_id is not None and agency_id != actor_agency:
        ctx.audit("extension_request", f"agency:{agency_id}", "refused", reason="other_agency")
        return [Outgoing(render("extensions/request_refused.j2", reason="other_agency"))]
    store = extension_store(ctx)
    if task_id is None:
        if actor_agency is None or not [
            t for t in store.tasks_for(actor_agency, _today(ctx)) if not t.pending
        ]:
            return [Outgoing(render("extensions/none_open.j2"))]
        return ctx.start_flow(REQUEST_FLOW)
    data: dict[str, Any] = {}
    try:
        load_request_task(ctx, data, store, task_id)
    except Invalid as exc:
        return [Outgoing(render(exc.reason.template, **exc.reason.context))]
    data["task"] = str(task_id)
    return ctx.start_flow(REQUEST_FLOW, data, step="new_date")


def request_button(ctx: ChatContext, pressed: PressedButton) -> list[Outgoing]:
    try:
        agency_id = int(pressed.args["agency_id"])
        raw_task = pressed.args.get("task_id")
        task_id = int(raw_task) if raw_task is not None else None
    except (KeyError, TypeError, ValueError):
        ctx.audit("extension_request", "malformed", "refused", args=pressed.args)
        return [Outgoing(render("chat/refused_button.j2"))]
    return start_request(ctx, agency_id, task_id)


def _offer_after_report(flow: Any) -> Any:
    """The report flow, whose receipt offers «Xin gia hạn» when the task is not done and has
    a deadline (the request flow then starts at the new date)."""
    original = flow.finish

    def finish(ctx: ChatContext, data: dict[str, Any]) -> Any:
        result = original(ctx, data)
        if not isinstance(result, Text) or result.template != "chat/report_saved.j2":
            return result
        if data.get("status") == ReportStatus.DONE.value or ctx.actor is None:
            return result
        agency_id = ctx.actor.agency_id
        item = (
            extension_store(ctx).task(agency_id, int(data["task_id"]), _today(ctx))
            if agency_id is not None
            else None
        )
        if item is None or item.pending:
            return result
        button = ctx.button(
            render("reminders/button_extension.j2"),
            "extension_request",
            {"agency_id": agency_id, "task_id": item.task_id},
        )
        offer = Outgoing(
            render("extensions/offer.j2", ref=item.ref, deadline=item.deadline), buttons=[[button]]
        )
        return [Outgoing(render(result.template, **result.context)), offer]

    return replace(flow, finish=finish)


# ---------------------------------------------------------------------------- deciding
def queue(ctx: ChatContext) -> list[Outgoing]:
    """/giahan: `/duyet` narrowed to extension requests, the oldest first, one at a time (the
    same flow, kind and decisions: `messages.extensions.ExtensionDecisions`)."""
    queue = queue_for(ctx.session, ctx.config.timezone, data_dir=ctx.config.data_dir)
    data = start_data(queue, only=[EXTENSION])
    if data is None:
        return [Outgoing(render("extensions/queue_empty.j2"))]
    return ctx.start_flow(REVIEW_FLOW, data, step="decide")


def queue_button(ctx: ChatContext, pressed: PressedButton) -> list[Outgoing]:
    return queue(ctx)


# ---------------------------------------------------------------------------- deputies
def deputy_invite(ctx: ChatContext) -> Outgoing:
    """/moi by a focal point: an invite for a deputy of its own agency, whatever was typed.

    Typing another agency is refused and audited (core.auth.may_invite_deputy)."""
    assert ctx.actor is not None
    typed = ctx.request.text.strip()
    agency_id = ctx.actor.agency_id
    if typed:  # an agency named: it must be the focal point's own (unclear: not guessed)
        agency_text, role, _written = split_role(typed)
        if role not in (None, UserRole.FOCAL):  # a deputy is a focal point, nothing else
            ctx.audit("deputy_invite", f"role:{role}", "refused", reason="role")
            return Outgoing(render("deputies/refused.j2", reason="role"))
        match = resolve_agency(ctx.session, agency_text) if agency_text else None
        if match is not None:
            agency = agency_by_code(ctx.session, match.code) if match.code else None
            agency_id = agency.id if agency is not None else None
    refusal = may_invite_deputy(ctx.actor, agency_id)
    if refusal is not None:
        ctx.audit("deputy_invite", refusal.target, "refused", reason=refusal.reason)
        return Outgoing(render("deputies/refused.j2", reason=refusal.reason))
    expires = ctx.now + timedelta(days=INVITE_DAYS)
    code = create_invite(
        ctx.session, agency_id, UserRole.FOCAL, expires, ctx.request.actor_key, ctx.now, True
    )
    ctx.audit("deputy_invite", f"agency:{ctx.actor.agency_code}", expires=expires.isoformat())
    return Outgoing(
        render(
            "deputies/invite_created.j2",
            code=code,
            link=ctx.invite_link(code),
            agency=ctx.actor.agency_name,
            expires=expires,
        )
    )


# ---------------------------------------------------------------------------- /caidat
def absence_part(ctx: ChatContext) -> tuple[str, list[list[Button]]]:
    """The absence line and buttons /caidat shows a focal point ("" and none for others)."""
    actor = ctx.actor
    if actor is None or actor.role is not UserRole.FOCAL:
        return "", []
    seat = seat_of(ctx.session, actor.contact_id)
    away = seat is not None and seat.away_until is not None and seat.away_until >= _today(ctx)
    stand_ins = (
        [c.display_name for c in deputies_of(ctx.session, actor.agency_id)]
        if actor.agency_id is not None
        else []
    )
    text = render(
        "absence/settings.j2",
        away_from=seat.away_from if away and seat else None,
        away_until=seat.away_until if away and seat else None,
        deputy=bool(seat and seat.deputy),
        stand_ins=stand_ins,
    )
    row = [ctx.button(render("absence/button_set.j2"), "absence_set", {})]
    if away:
        row.append(ctx.button(render("absence/button_clear.j2"), "absence_clear", {}))
    return text, [row]


def absence_set(ctx: ChatContext, pressed: PressedButton) -> list[Outgoing]:
    return ctx.start_flow(ABSENCE_FLOW)


def absence_clear(ctx: ChatContext, pressed: PressedButton) -> Outgoing:
    assert ctx.actor is not None
    set_absence(ctx.session, ctx.actor.contact_id, None, None, ctx.now)
    ctx.audit("absence_clear", f"contact:{ctx.actor.contact_id}")
    return Outgoing(render("absence/cleared.j2"))


# ---------------------------------------------------------------------------- plug-in
def register(registry: Registry) -> None:
    registry.add_flow(build_request_flow(extension_store))
    registry.add_flow(build_absence_flow(absence_store))
    if REPORT_FLOW in registry.flows:
        registry.flows[REPORT_FLOW] = _offer_after_report(registry.flows[REPORT_FLOW])
    registry.add_command("giahan", render("extensions/command_description.j2"), queue, roles=STAFF)
    registry.add_button("extension_request", request_button, roles=FOCAL)
    registry.add_button(QUEUE_ACTION, queue_button, roles=STAFF)
    registry.add_button("absence_set", absence_set, roles=FOCAL)
    registry.add_button("absence_clear", absence_clear, roles=FOCAL)
