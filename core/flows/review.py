"""`/duyet`: the coordinators' queue, oldest first, one item at a time.

Each item is shown with what may be done with it (from its `core.review.QueueKind`) and
«Bỏ qua»; an action that needs words (a reason to return, an answer) asks for them as text.
After each decision the next item follows in the same conversation, with a line confirming the
last one, until the queue is empty. Decisions go through `core.review.decide` (role rule,
offered actions) and are audited here; a refused one is audited and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.commands import ChatContext
from core.conversation import FINISH, Choice, Expect, Flow, Step, Text, say
from core.outgoing import Outgoing
from core.review import Action, DecisionRefused, QueueItem, QueueKinds, attachments_of, decide

FLOW = "review"
SKIP = "skip"
FILES = "files"  # «Xem tài liệu»: the item's files, then the same item again

QueueOf = Callable[[Any], QueueKinds]  # ctx -> the kinds, bound to this update's session


def item_data(item: QueueItem | None) -> dict[str, str] | None:
    return {"kind": item.kind, "key": item.key} if item is not None else None


def start_data(queue: QueueKinds, only: list[str] | None = None) -> dict[str, Any] | None:
    """The flow's data for the first item, or None when nothing waits. With `only`, the
    queue narrowed to those kinds for the whole conversation (`/giahan`)."""
    first = (queue.only(only) if only else queue).head()
    if first is None:
        return None
    data: dict[str, Any] = {"current": item_data(first), "skipped": [], "decided": 0, "last": None}
    return {**data, "only": only} if only else data


def build_review_flow(all_kinds: QueueOf) -> Flow:
    def queue_of(ctx: ChatContext, data: dict[str, Any]) -> QueueKinds:
        queue = all_kinds(ctx)
        return queue.only(data["only"]) if data.get("only") else queue

    def current_action(ctx: ChatContext, data: dict[str, Any]) -> Action | None:
        item = data.get("current") or {}
        kind = queue_of(ctx, data).get(item.get("kind", ""))
        if kind is None:
            return None
        return next((a for a in kind.actions(item["key"]) if a.value == data.get("action")), None)

    def show(ctx: ChatContext, data: dict[str, Any]) -> Text:
        queue = queue_of(ctx, data)
        item = data["current"]
        kind = queue.get(item["kind"])
        shown = kind.show(item["key"]) if kind is not None else None
        last = data.get("last")
        return say(
            "review/item.j2",
            shown=shown,
            last=Text(last[0], last[1]) if last else None,
            waiting=queue.count(),
        )

    def choices(ctx: ChatContext, data: dict[str, Any]) -> list[Choice]:
        item = data["current"]
        kind = queue_of(ctx, data).get(item["kind"])
        actions = list(kind.actions(item["key"])) if kind is not None else []
        files = (
            [Choice(FILES, say("review/button_files.j2"))]
            if actions and kind and (attachments_of(kind, item["key"]))
            else []
        )
        return (
            [Choice(a.value, a.label) for a in actions]
            + files
            + [Choice(SKIP, say("review/button_skip.j2"))]
        )

    def move_on(ctx: ChatContext, data: dict[str, Any]) -> None:
        data["current"] = item_data(queue_of(ctx, data).head(data.get("skipped") or []))

    def act(ctx: ChatContext, data: dict[str, Any], text: str) -> None:
        item = data["current"]
        target = f"{item['kind']}:{item['key']}"
        try:
            decided = decide(
                queue_of(ctx, data),
                ctx.actor,
                item["kind"],
                item["key"],
                data["action"],
                text,
                ctx.now,
            )
        except DecisionRefused as refused:
            ctx.audit(f"review_{data['action']}"[:64], target, "refused", reason=refused.reason)
            data["last"] = ["review/refused.j2", {"reason": refused.reason}]
            if refused.reason not in ("already_decided", "unknown_item"):
                return  # not moved on: the same item again (e.g. an empty reason)
            data["skipped"] = [*(data.get("skipped") or []), target]
        else:
            ctx.audit(f"review_{decided.action}"[:64], decided.target)
            data["decided"] = int(data.get("decided") or 0) + 1
            data["last"] = [decided.said.template, dict(decided.said.context)]
        move_on(ctx, data)

    def chose(ctx: ChatContext, data: dict[str, Any]) -> list[Outgoing] | None:
        data["needs_text"] = False
        if data["action"] == FILES:  # the files, then the same item's question again
            item = data["current"]
            kind = queue_of(ctx, data).get(item["kind"])
            data["last"] = None
            return list(attachments_of(kind, item["key"])) if kind is not None else []
        if data["action"] == SKIP:
            item = data["current"]
            data["skipped"] = [*(data.get("skipped") or []), f"{item['kind']}:{item['key']}"]
            data["last"] = None
            move_on(ctx, data)
            return None
        action = current_action(ctx, data)
        if action is not None and action.text is not None:
            data["needs_text"] = True
            return None
        act(ctx, data, "")
        return None

    def ask_text(ctx: ChatContext, data: dict[str, Any]) -> Text:
        action = current_action(ctx, data)
        return (
            action.text
            if action is not None and action.text is not None
            else say("review/ask_reason.j2")
        )

    def wrote(ctx: ChatContext, data: dict[str, Any]) -> None:
        data["needs_text"] = False
        act(ctx, data, str(data.pop("text", "") or ""))

    def after_choice(data: dict[str, Any]) -> str:
        if data.get("needs_text"):
            return "text"
        return "decide" if data.get("current") else FINISH

    def after_text(data: dict[str, Any]) -> str:
        return "decide" if data.get("current") else FINISH

    def finish(ctx: ChatContext, data: dict[str, Any]) -> Text:
        last = data.get("last")
        return say(
            "review/queue_done.j2",
            decided=int(data.get("decided") or 0),
            skipped=len(data.get("skipped") or []),
            last=Text(last[0], last[1]) if last else None,
            only=list(data.get("only") or []),
        )

    return Flow(
        name=FLOW,
        steps=[
            Step(
                "decide",
                show,
                Expect.CHOICE,
                key="action",
                choices=choices,
                after=chose,
                next=after_choice,
                columns=3,
            ),
            Step("text", ask_text, after=wrote, next=after_text, when=lambda d: False),
        ],
        finish=finish,
    )
