"""Extension requests in chat: a focal point asks (`extension_request`), a coordinator decides
(`/giahan`, `extension_decide`).

Request: task (skipped when a reminder's button or the report receipt named it) → new date
(dd/mm/yyyy, later than today and than the current deadline) → reason → Gửi/Huỷ.

Decision: the oldest pending request, one at a time, with Chấp thuận / Từ chối / Bỏ qua (and
Dừng); a refusal asks its reason as text; after each decision the next request is shown,
headed by what was just decided. The decision goes through `core.extensions.decide`, which
refuses anyone but a coordinator. Listing and deciding live in the `ExtensionStore` port, so
another queue (`/duyet`) can show these requests with the same calls.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from core.auth import Refusal, may_decide_extension, may_request_extension
from core.commands import ChatContext
from core.conversation import FINISH, Choice, Expect, Flow, Invalid, Step, Text, say
from core.extensions import (
    Decision,
    ExtensionDraft,
    ExtensionRefused,
    ExtensionRequestInfo,
    ExtensionStore,
    date_problem,
    decide,
)
from core.flows.choices import after_confirm, confirm_choices
from core.outgoing import Outgoing

REQUEST_FLOW = "extension_request"
DECIDE_FLOW = "extension_decide"
StoreOf = Callable[[Any], ExtensionStore]


def _today(ctx: ChatContext) -> date:
    return ctx.now.astimezone(ctx.config.timezone).date()


def load_request_task(
    ctx: ChatContext, data: dict[str, Any], store: ExtensionStore, task_id: int
) -> None:
    """Check the actor may ask for more time on `task_id` and keep what later steps show."""
    agency_id = ctx.actor.agency_id if ctx.actor else None
    item = store.task(agency_id, task_id, _today(ctx)) if agency_id is not None else None
    refusal = may_request_extension(ctx.actor, agency_id, item is not None)
    if refusal is not None or item is None:
        reason = refusal.reason if refusal else "not_open"
        ctx.audit("extension_request", f"task:{task_id}", "refused", reason=reason)
        raise Invalid(say("extensions/request_refused.j2", reason=reason))
    if item.pending:
        raise Invalid(say("extensions/request_refused.j2", reason="pending"))
    data.update(
        task_id=item.task_id, ref=item.ref, title=item.title, deadline=item.deadline.isoformat()
    )


def build_request_flow(store_of: StoreOf) -> Flow:
    def task_choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        agency_id = ctx.actor.agency_id if ctx.actor else None
        items = store_of(ctx).tasks_for(agency_id, _today(ctx)) if agency_id is not None else []
        return [
            Choice(str(t.task_id), say("extensions/task_label.j2", t=t), (t.ref,))
            for t in items
            if not t.pending
        ]

    def chose_task(ctx: ChatContext, data: dict[str, Any]) -> None:
        load_request_task(ctx, data, store_of(ctx), int(data["task"]))

    def check_date(ctx: ChatContext, data: dict[str, Any], value: str) -> None:
        deadline = date.fromisoformat(data["deadline"])
        problem = date_problem(date.fromisoformat(value), _today(ctx), deadline)
        if problem is not None:
            raise Invalid(
                say("extensions/date_problem.j2", reason=problem, deadline=deadline, d=data)
            )

    def finish(ctx: ChatContext, data: dict[str, Any]) -> Any:
        store = store_of(ctx)
        agency_id = ctx.actor.agency_id if ctx.actor else None
        item = store.task(agency_id, data["task_id"], _today(ctx)) if agency_id else None
        refusal = may_request_extension(ctx.actor, agency_id, item is not None)
        if refusal is not None or ctx.actor is None or agency_id is None:
            reason = refusal.reason if refusal else "not_open"
            ctx.audit("extension_request", f"task:{data['task_id']}", "refused", reason=reason)
            return say("extensions/request_refused.j2", reason=reason)
        draft = ExtensionDraft(
            agency_id,
            data["task_id"],
            ctx.actor.contact_id,
            date.fromisoformat(data["new_date"]),
            data["reason"],
        )
        try:
            saved = store.request(draft, ctx.now)
        except ExtensionRefused as exc:
            ctx.audit("extension_request", f"task:{data['ref']}", "refused", reason=exc.reason)
            return say("extensions/request_refused.j2", reason=exc.reason)
        ctx.audit(
            "extension_request",
            f"task:{data['ref']} agency:{ctx.actor.agency_code}",
            request=saved.id,
            new_date=saved.new_date.isoformat(),
        )
        return say("extensions/requested.j2", r=saved)

    return Flow(
        name=REQUEST_FLOW,
        steps=[
            Step(
                "task",
                lambda ctx, d: say("extensions/ask_task.j2"),
                Expect.CHOICE,
                choices=task_choices,
                after=chose_task,
                when=lambda d: "task_id" not in d,
            ),
            Step(
                "new_date",
                lambda ctx, d: say("extensions/ask_date.j2", d=d),
                Expect.DATE,
                check=check_date,
            ),
            Step("reason", lambda ctx, d: say("extensions/ask_reason.j2", d=d)),
            Step(
                "confirm",
                lambda ctx, d: say("extensions/confirm.j2", d=d),
                Expect.CHOICE,
                choices=confirm_choices,
                next=after_confirm,
                columns=2,
            ),
        ],
        finish=finish,
    )


# ---------------------------------------------------------------------------- deciding
def _shown(store: ExtensionStore, data: dict[str, Any]) -> ExtensionRequestInfo | None:
    """The request on screen: the oldest pending one not skipped in this session."""
    found = store.next_pending(list(data.get("skipped") or []))
    data["current"] = found.id if found is not None else None
    return found


def first_pending(store: ExtensionStore) -> ExtensionRequestInfo | None:
    return store.next_pending([])


def build_decide_flow(store_of: StoreOf) -> Flow:
    def prompt(ctx: ChatContext, data: dict[str, Any]) -> Text:
        store = store_of(ctx)
        current = _shown(store, data)
        return say(
            "extensions/queue_item.j2",
            r=current,
            last=data.pop("_last", None),
            left=store.pending_count(),
        )

    def choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        return [
            Choice("approve", say("extensions/button_decision.j2", decision="approve")),
            Choice("reject", say("extensions/button_decision.j2", decision="reject")),
            Choice("skip", say("extensions/button_decision.j2", decision="skip")),
            Choice("stop", say("extensions/button_decision.j2", decision="stop")),
        ]

    def apply(ctx: ChatContext, data: dict[str, Any], decision: Decision, refusal: str) -> None:
        request_id = data.get("current")
        if request_id is None:
            return
        try:
            outcome = decide(store_of(ctx), ctx.actor, int(request_id), decision, refusal, ctx.now)
        except ExtensionRefused as exc:  # decided meanwhile by another coordinator
            ctx.audit("extension_decide", f"request:{request_id}", "refused", reason=exc.reason)
            data["_last"] = {"refused": exc.reason}
            return
        if isinstance(outcome, Refusal):
            ctx.audit("extension_decide", f"request:{request_id}", "refused", reason=outcome.reason)
            raise Invalid(say("extensions/decide_refused.j2"))
        ctx.audit(
            "extension_decide",
            f"request:{request_id} task:{outcome.ref} agency:{outcome.agency_id}",
            decision=decision.value,
            new_date=outcome.new_date.isoformat(),
            refusal=refusal or None,
        )
        data["_last"] = {
            "decision": decision.value,
            "ref": outcome.ref,
            "agency": outcome.agency_name,
            "new_date": outcome.new_date.isoformat(),
        }

    def after_pick(ctx: ChatContext, data: dict[str, Any]) -> None:
        choice = data["pick"]
        if choice == "approve":
            apply(ctx, data, Decision.APPROVE, "")
        elif choice == "skip" and data.get("current") is not None:
            data.setdefault("skipped", []).append(int(data["current"]))
        elif choice == "reject":
            # the rule is checked before the reason is asked, and again when it is applied
            if may_decide_extension(ctx.actor) is not None:
                ctx.audit("extension_decide", f"request:{data.get('current')}", "refused")
                raise Invalid(say("extensions/decide_refused.j2"))
            return
        _shown(store_of(ctx), data)

    def after_reason(ctx: ChatContext, data: dict[str, Any]) -> None:
        apply(ctx, data, Decision.REJECT, data["refusal"])
        _shown(store_of(ctx), data)

    def next_after_pick(data: dict[str, Any]) -> str:
        if data["pick"] == "stop" or data.get("current") is None:
            return FINISH
        return "refusal" if data["pick"] == "reject" else "pick"

    def next_after_reason(data: dict[str, Any]) -> str:
        return "pick" if data.get("current") is not None else FINISH

    def finish(ctx: ChatContext, data: dict[str, Any]) -> Any:
        last = data.pop("_last", None)
        left = store_of(ctx).pending_count()
        return Outgoing(ctx.render("extensions/queue_done.j2", last=last, left=left))

    return Flow(
        name=DECIDE_FLOW,
        steps=[
            Step(
                "pick",
                prompt,
                Expect.CHOICE,
                choices=choices,
                after=after_pick,
                next=next_after_pick,
                columns=3,
            ),
            Step(
                "refusal",
                lambda ctx, d: say("extensions/ask_refusal.j2"),
                key="refusal",
                after=after_reason,
                next=next_after_reason,
                when=lambda d: False,  # reached only from "Từ chối"
            ),
        ],
        finish=finish,
    )
