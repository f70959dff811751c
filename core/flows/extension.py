"""Extension requests in chat: a focal point asks (`extension_request`).

Request: task (skipped when a reminder's button or the report receipt named it) → new date
(dd/mm/yyyy, later than today and than the current deadline) → reason → Gửi/Huỷ.

Coordinators decide in the review queue (`/duyet`, or `/giahan` for these requests alone):
the queue's kind `messages.extensions.ExtensionDecisions` goes through
`core.extensions.decide`, which refuses anyone but a coordinator, and the `ExtensionStore`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from core.auth import may_request_extension
from core.commands import ChatContext
from core.conversation import Choice, Expect, Flow, Invalid, Step, say
from core.extensions import (
    ExtensionDraft,
    ExtensionRefused,
    ExtensionStore,
    date_problem,
)
from core.flows.choices import after_confirm, confirm_choices

REQUEST_FLOW = "extension_request"
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
