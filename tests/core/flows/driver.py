"""A flow driven without a dispatcher or a database: the engine, a fake context, a fake port.

`FlowDriver` plays the part of the dispatcher for one user — it starts a flow, presses options
by their value, types answers — and keeps what the flow said, audited and deferred, so a test
reads like the conversation. The context satisfies `core.commands.ChatContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core import conversation as engine
from core.channel import TELEGRAM_CAPABILITIES, Capabilities
from core.commands import Actor, ChatConfig, InputKind, Registry, Request
from core.conversation import Answer, Flow, FlowState, Limits, Outcome, Text
from core.files import FileLinks, NoFileLinks
from core.model import UserRole
from core.outgoing import Button, Outgoing
from messages.render import render

NOW = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội, a Monday


def actor(role: UserRole = UserRole.COORDINATOR, agency: str = "SNV") -> Actor:
    return Actor(
        contact_id=1,
        channel="test",
        user_id="u1",
        chat_id="u1",
        role=role,
        agency_id=10,
        agency_code=agency,
        agency_name="Sở Nội vụ" if agency == "SNV" else f"Cơ quan {agency}",
        display_name="Chị Hoa",
    )


@dataclass
class FakeContext:
    """`ChatContext` for unit tests: audits and after-commit jobs are kept in lists."""

    actor: Actor | None
    now: datetime = NOW
    config: ChatConfig = field(default_factory=ChatConfig)
    limits: Limits = field(default_factory=Limits)
    registry: Registry = field(default_factory=Registry)
    session: Any = None
    cache: dict[str, Any] = field(default_factory=dict)
    capabilities: Capabilities = TELEGRAM_CAPABILITIES
    files: FileLinks = field(default_factory=NoFileLinks)
    audits: list[dict[str, Any]] = field(default_factory=list)
    deferred: list[Callable[[Any], Sequence[Outgoing]]] = field(default_factory=list)
    started: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    request: Request = field(
        default_factory=lambda: Request("test", "u1", "u1", InputKind.COMMAND, command="x")
    )

    @property
    def flow_name(self) -> str | None:
        return None

    def cancel_flow(self) -> list[Outgoing] | None:
        return None

    def button(self, text: str, action: str, args: Mapping[str, Any] | None = None) -> Button:
        return Button(text, f"{action}:{dict(args or {})}")

    def start_flow(
        self, name: str, data: Mapping[str, Any] | None = None, step: str | None = None
    ) -> list[Outgoing]:
        self.started.append((name, dict(data or {})))
        return []

    def render(self, template: str, **context: Any) -> str:
        return render(template, **context)

    def invite_link(self, code: str) -> str | None:
        return None

    def audit(self, action: str, target: str = "", outcome: str = "ok", **detail: Any) -> None:
        self.audits.append({"action": action, "target": target, "outcome": outcome, **detail})

    def after_commit(self, job: Callable[[Any], Sequence[Outgoing]]) -> None:
        self.deferred.append(job)


class FlowDriver:
    def __init__(self, flow: Flow, ctx: FakeContext) -> None:
        self.flow, self.ctx = flow, ctx
        self.state: FlowState | None = None
        self.last: Outcome | None = None

    def _apply(self, outcome: Outcome) -> Outcome:
        self.state, self.last = outcome.state, outcome
        return outcome

    def start(self, data: Mapping[str, Any] | None = None) -> Outcome:
        return self._apply(engine.begin(self.flow, self.ctx, self.ctx.now, data))

    @property
    def step(self) -> str | None:
        return self.state.step if self.state else None

    @property
    def options(self) -> list[str]:
        return list(self.state.options) if self.state else []

    def question(self) -> str:
        """The current prompt as the user reads it."""
        assert self.last is not None and self.last.ask is not None
        text = self.last.ask.text
        return render(text.template, **text.context)

    def labels(self) -> list[str]:
        assert self.last is not None and self.last.ask is not None
        return [
            render(o.label.template, **o.label.context) if isinstance(o.label, Text) else o.label
            for o in self.last.ask.options
        ]

    def said(self) -> list[str]:
        """What the last answer got back before the next question (errors, the finish)."""
        assert self.last is not None
        out = []
        for item in self.last.say:
            if isinstance(item, Text):
                out.append(render(item.template, **item.context))
            elif isinstance(item, Outgoing):
                out.append(item.text)
            else:
                out.append(str(item))
        return out

    def press(self, value: str) -> Outcome:
        assert self.state is not None, "no flow running"
        index = self.state.options.index(value)
        return self._apply(
            engine.handle(self.flow, self.state, self.ctx, Answer.pressed(index), self.ctx.now)
        )

    def type(self, text: str) -> Outcome:
        assert self.state is not None, "no flow running"
        return self._apply(
            engine.handle(self.flow, self.state, self.ctx, Answer.typed(text), self.ctx.now)
        )
