"""One update in, replies out: the channel-independent heart of the chat.

Each update is one database transaction: claim the update's de-duplication key (a replay
stops here), load who is speaking and where they are in a flow, check roles, run the command /
button / flow step, save the new flow state, write audit rows, commit. Replies are returned to
the adapter, which sends them directly (they answer the user's own update); proactive messages
go to the outbox.

The channel's `Capabilities` decide the rendering here, never its name: on a channel without
inline buttons a typed number presses a numbered choice (the mapping is stored per chat), a
press acknowledgement becomes a message where there are no popups, an edit becomes a new
message where there are no edits, and a file becomes a link (the `FileLinks` port) where files
are not carried.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core import conversation as engine_
from core.channel import TELEGRAM_CAPABILITIES, ButtonStyle, Capabilities, Channel
from core.clock import Clock
from core.commands import (
    Actor,
    ChatConfig,
    InputKind,
    Registry,
    Request,
    allowed,
)
from core.conversation import (
    PAGE,
    Answer,
    AnswerKind,
    Ask,
    Expect,
    Flow,
    FlowState,
    Limits,
    Outcome,
    Text,
)
from core.files import FileLinks, NoFileLinks
from core.inbound import clean_request
from core.model import UserRole
from core.outgoing import Button, Outgoing
from messages.channel_text import fit_to_channel, labels_to_type, numbered
from messages.render import environment as template_environment
from messages.render import render
from storage.chat.buttons import issue_button, redeem_button
from storage.chat.choices import forget_choices, offer_choices, offered_choices
from storage.chat.state import (
    ChatKey,
    FlowRecord,
    actor_for,
    audit,
    delete_flow,
    idle_flows,
    load_flow,
    mark_prompt_sent,
    prune_updates,
    record_update,
    save_flow,
    state_of,
    unsent_prompts,
)
from storage.outbox import OutboxItem, enqueue, enqueue_many

log = logging.getLogger("parbot.chat")

BUTTON_TTL = timedelta(days=30)
_TYPED_NUMBER = re.compile(r"\d{1,6}")
#: Steps that ask for a typed answer (a figure, a date, a text): a typed number answers them.
TYPED_ANSWERS = frozenset({Expect.NUMBER, Expect.DATE, Expect.TEXT})


@dataclass
class Response:
    """What the adapter should do for one update: channel-neutral intents, already fitted to
    the channel's capabilities (an adapter without popups or edits never receives them)."""

    messages: list[Outgoing] = field(default_factory=list)
    edit: Outgoing | None = None  # replaces the message whose button was pressed (edits only)
    chosen: str | None = None  # label of the pressed flow option (a short confirmation)
    acknowledge: str | None = None  # a short answer to the press itself (popups only)
    duplicate: bool = False  # a replayed update: nothing was done
    role_changed: UserRole | None = None  # the user's role changed (Telegram: the command menu)
    close_pressed: bool = False  # the pressed message's choices are spent (the flow ended)
    prompt: tuple[int, int] | None = None  # (flow row, seq) of the prompt among the messages
    deferred: list[Callable[[Session], Sequence[Outgoing]]] = field(default_factory=list)
    fit: Callable[[Outgoing], Outgoing] | None = None  # for the deferred jobs' messages


class Ctx:
    """`core.commands.ChatContext` for one update (see docs/chat-extensions.md)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        session: Session,
        request: Request,
        actor: Actor | None,
        now: datetime,
    ) -> None:
        self.dispatcher = dispatcher
        self.session = session
        self.request = request
        self.actor = actor
        self.now = now
        self.limits = dispatcher.limits
        self.config = dispatcher.config
        self.registry = dispatcher.registry
        self.tz = dispatcher.tz
        self.cache: dict[str, Any] = {}
        self.capabilities = dispatcher.capabilities(request.channel)
        self.files = dispatcher.files
        self.key = ChatKey(request.channel, request.chat_id, request.user_id)
        self.row: FlowRecord | None = None
        self.state: FlowState | None = None
        self.labels: list[str] = []
        self.dirty = False
        self.page_turned = False
        self.deferred: list[Callable[[Session], Sequence[Outgoing]]] = []

    # -- the ChatContext protocol
    def button(self, text: str, action: str, args: Mapping[str, Any] | None = None) -> Button:
        if self.actor is None:
            raise RuntimeError("buttons are bound to a linked contact")
        token = issue_button(
            self.session, self.actor.contact_id, action, dict(args or {}), BUTTON_TTL, self.now
        )
        return Button(text, token)

    def start_flow(
        self, name: str, data: Mapping[str, Any] | None = None, step: str | None = None
    ) -> list[Outgoing]:
        flow = self.registry.flows[name]
        if self.state is not None:
            current = self.registry.flows.get(self.state.flow)
            if current is not None and current.on_cancel is not None:
                current.on_cancel(self, self.state.data)
        outcome = engine_.begin(flow, self, self.now, data, step)
        return self.apply(flow, outcome)

    def cancel_flow(self) -> list[Outgoing] | None:
        """End the current flow (None when there was none)."""
        if self.state is None:
            return None
        flow = self.registry.flows.get(self.state.flow)
        if flow is None:
            self.state, self.dirty = None, True
            return [Outgoing(render("chat/flow_cancelled.j2"))]
        return self.apply(flow, engine_.cancel(flow, self.state, self))

    def render(self, template: str, **context: Any) -> str:
        return render(template, **context)

    def invite_link(self, code: str) -> str | None:
        """The channel's own way to redeem `code` by a link; None: the code is typed."""
        return self.dispatcher.invite_link(self.request.channel, code)

    def after_commit(self, job: Callable[[Session], Sequence[Outgoing]]) -> None:
        self.deferred.append(job)

    def audit(self, action: str, target: str = "", outcome: str = "ok", **detail: Any) -> None:
        audit(
            self.session,
            self.request.actor_key,
            action,
            target,
            outcome,
            self.actor.contact_id if self.actor else None,
            self.now,
            **detail,
        )

    @property
    def flow_name(self) -> str | None:
        return self.state.flow if self.state else None

    # -- engine outcomes → messages
    def apply(self, flow: Flow, outcome: Outcome) -> list[Outgoing]:
        # A flow's finish() may hand over to another flow (ctx.start_flow): keep that one.
        handed_over = (
            outcome.finished and self.state is not None and self.state.flow != flow.name
        )
        if not handed_over:
            self.state = outcome.state
        self.dirty = True
        self.page_turned = outcome.page_turned
        messages = [self.say(item) for item in outcome.say]
        if outcome.ask is not None and outcome.state is not None:
            prompt = self.prompt(outcome.ask, outcome.state)
            # "Tệp đã nhận" / "Số liệu chưa hợp lệ" + the question: one message, not two
            while messages and _plain(messages[-1]):
                prompt = Outgoing(f"{messages.pop().text}\n\n{prompt.text}", prompt.buttons)
            messages.append(prompt)
        return messages

    def say(self, item: Any) -> Outgoing:
        if isinstance(item, Outgoing):
            return item
        if isinstance(item, Text):
            return Outgoing(render(item.template, **item.context))
        return Outgoing(str(item))

    def label(self, label: str | Text) -> str:
        return render(label.template, **label.context) if isinstance(label, Text) else label

    def prompt(self, ask: Ask, state: FlowState) -> Outgoing:
        self.labels = [self.label(o.label) for o in ask.options]
        plain: list[Button] = []
        nav: list[Button] = []
        extra: list[Button] = []
        for index, (option, text) in enumerate(zip(ask.options, self.labels, strict=True)):
            button = Button(text, f"f:{state.instance}:{state.seq}:{index}")
            if option.value.startswith(PAGE):
                nav.append(button)
            elif option.value.startswith("@"):
                extra.append(button)
            else:
                plain.append(button)
        columns = max(1, ask.columns)
        rows = [plain[i : i + columns] for i in range(0, len(plain), columns)]
        rows += [r for r in (nav, extra) if r]
        return Outgoing(render(ask.text.template, **ask.text.context), buttons=rows)


class Dispatcher:
    """Handles one `Request` at a time per user; safe to call from several threads."""

    def __init__(
        self,
        engine: Engine,
        registry: Registry,
        clock: Clock,
        limits: Limits | None = None,
        timezone: str = "Asia/Ho_Chi_Minh",
        config: ChatConfig | None = None,
        files: FileLinks | None = None,
        channels: Sequence[Channel] = (),
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.clock = clock
        self.limits = limits or Limits()
        self.tz = ZoneInfo(timezone)
        self.config = config or ChatConfig(timezone=self.tz)
        self.files: FileLinks = files or NoFileLinks()
        self.channels: dict[str, Channel] = {}
        for channel in channels:
            self.attach(channel)
        # SQLite has one writer: queue in-process instead of spinning on its busy handler.
        self._lock = threading.Lock() if engine.dialect.name == "sqlite" else None

    def attach(self, channel: Channel) -> None:
        """Make a channel's capabilities and invite links known (the composition root does)."""
        self.channels[channel.name] = channel

    def capabilities(self, channel: str) -> Capabilities:
        """What `channel` can render; a channel not attached is taken as Telegram-like."""
        attached = self.channels.get(channel)
        return attached.capabilities if attached is not None else TELEGRAM_CAPABILITIES

    def invite_link(self, channel: str, code: str) -> str | None:
        attached = self.channels.get(channel)
        return attached.invite_link(code) if attached is not None else None

    def handle(self, request: Request, run_deferred: bool = True) -> Response:
        """Process one update. With `run_deferred=False` the caller runs the after-commit
        jobs itself (`run_deferred`), e.g. in a worker thread while the event loop goes on."""
        with self._write_lock():
            response = self._handle(request)
        if run_deferred:
            self.run_deferred(response)
        return response

    def run_deferred(self, response: Response) -> None:
        """Run the after-commit jobs of `response`; their messages join its replies."""
        jobs, response.deferred = response.deferred, []
        for job in jobs:
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    messages = list(job(session))
                fit = response.fit
                response.messages.extend([fit(m) for m in messages] if fit else messages)
            except Exception:
                log.exception("after-commit job failed")
                response.messages.append(Outgoing(render("chat/error.j2")))

    def _handle(self, request: Request) -> Response:
        request, cleaned = clean_request(request)  # the one text rule (core.text.sanitize)
        now = self.clock.now()
        with Session(self.engine, expire_on_commit=False) as session:
            if request.dedupe_key is not None:
                try:
                    record_update(session, request.channel, request.dedupe_key, now)
                except IntegrityError:
                    session.rollback()
                    log.info(
                        "duplicate update skipped channel=%s key=%s",
                        request.channel,
                        request.dedupe_key,
                    )
                    return Response(duplicate=True)
            try:
                actor = actor_for(session, request.channel, request.user_id)
                ctx = Ctx(self, session, request, actor, now)
                if cleaned:
                    ctx.audit("input_cleaned", request.kind.value, "cleaned", removed=cleaned)
                response = self._route(ctx)
                self._persist(ctx)
                after = ctx.actor  # handlers that link a user (/start CODE) update ctx.actor
                if after is not None and (actor is None or actor.role != after.role):
                    response.role_changed = after.role
                self._fit(ctx, response)
                session.commit()
                response.deferred = ctx.deferred
            except Exception:
                session.rollback()
                log.exception(
                    "update failed channel=%s kind=%s key=%s",
                    request.channel,
                    request.kind,
                    request.dedupe_key,
                )
                return Response([Outgoing(render("chat/error.j2"))])
        return response

    def put_off_replies(self, request: Request, messages: list[Outgoing], after: float) -> None:
        """Replies the platform refused for a moment go to the outbox, due `after` seconds
        from now, keyed by the update so a replay adds nothing (bot/chat/replies.py)."""
        now = self.clock.now()
        tag = request.dedupe_key or uuid.uuid4().hex
        due = now + timedelta(seconds=after)
        items = [
            OutboxItem(
                key=f"reply:{request.channel}:{request.chat_id}:{tag}:{index}",
                channel=request.channel, chat_id=request.chat_id, message=message,
                kind="reply", not_before=due,
            )
            for index, message in enumerate(messages)
        ]  # fmt: skip
        with self._write_lock(), Session(self.engine) as session:
            enqueue_many(session, items, now)
            session.commit()

    def prompt_sent(self, response: Response) -> None:
        """The adapter delivered the response: its prompt no longer needs sending after a
        crash. (Called after the send; a crash before it means the prompt goes out again.)"""
        if response.prompt is None:
            return
        row_id, seq = response.prompt
        with self._write_lock(), Session(self.engine) as session:
            mark_prompt_sent(session, row_id, seq)
            session.commit()

    def pending_prompt(self, key: ChatKey) -> Response | None:
        """The question a flow waits on, asked again (the console shows it when it resumes);
        None outside a flow. Numbered choices are offered anew, and the prompt counts as sent
        once the caller has shown it (`prompt_sent`)."""
        with self._write_lock(), Session(self.engine, expire_on_commit=False) as session:
            loaded = load_flow(session, key)
            if loaded is None:
                return None
            record, state = loaded
            flow = self.registry.flows.get(state.flow)
            if flow is None:
                return None
            request = Request(key.channel, key.chat_id, key.user_id, InputKind.OTHER)
            ctx = Ctx(
                self,
                session,
                request,
                actor_for(session, key.channel, key.user_id),
                self.clock.now(),
            )
            ctx.row, ctx.state = record, state
            messages = ctx.apply(flow, Outcome(state, [], engine_.ask(flow, state, ctx)))
            self._persist(ctx)
            response = Response(messages)
            self._fit(ctx, response)
            session.commit()
        return response

    def resend_prompts(self, older_than: timedelta | None = None) -> int:
        """At start-up: each flow whose latest prompt is not recorded as sent (a crash between
        the commit and the reply) gets that prompt again, through the outbox and once (its
        key names the prompt). A repeated prompt is harmless; a missing one is not.

        With `older_than`, only steps taken at least that long ago: several worker processes
        run this every half minute on the leader (`scheduler.service`), for the prompts of a
        worker killed while the others went on — not for one a live worker is sending now."""
        now = self.clock.now()
        done = 0
        before = now - older_than if older_than is not None else None
        with self._write_lock(), Session(self.engine, expire_on_commit=False) as session:
            for row in unsent_prompts(session, before=before):
                flow = self.registry.flows.get(row.flow)
                if flow is None or row.id is None:
                    continue
                key = ChatKey(row.channel, row.chat_id, row.user_id)
                request = Request(key.channel, key.chat_id, key.user_id, InputKind.OTHER)
                ctx = Ctx(self, session, request, actor_for(session, key.channel, key.user_id), now)
                state = state_of(row)
                ctx.row, ctx.state = FlowRecord(row.id, list(_labels(row))), state
                messages = ctx.apply(flow, Outcome(state, [], engine_.ask(flow, state, ctx)))
                numbers_answer = flow.step(state.step).expect in TYPED_ANSWERS
                if (
                    numbers_answer
                    and self.capabilities(key.channel).buttons is ButtonStyle.NUMBERED
                ):
                    messages = [labels_to_type(m) for m in messages]
                ctx.state.updated_at = row.updated_at  # asking again is not the user's activity
                self._persist(ctx)
                contact_id = ctx.actor.contact_id if ctx.actor else None
                for index, message in enumerate(messages):
                    enqueue(
                        session,
                        OutboxItem(
                            key=f"flow-prompt:{row.channel}:{row.instance}:{row.seq}:{index}",
                            channel=row.channel,
                            chat_id=row.chat_id,
                            message=message,
                            contact_id=contact_id,
                            kind="flow_prompt",
                        ),
                        now,
                    )
                mark_prompt_sent(session, row.id, state.seq)
                done += 1
            session.commit()
        return done

    def prune_updates(self, keep: timedelta = timedelta(days=7)) -> int:
        """Forget processed update ids older than `keep`: Telegram never resends those."""
        with self._write_lock(), Session(self.engine) as session:
            removed = prune_updates(session, self.clock.now() - keep)
            session.commit()
        return removed

    def warm_up(self) -> None:
        """Compile templates and SQL once at start-up, not on the first users' time."""
        environment = template_environment()
        for name in environment.list_templates(filter_func=lambda n: n.startswith("chat/")):
            environment.get_template(name)
        key = ChatKey("warm-up", "-", "-")
        with Session(self.engine) as session:
            actor_for(session, key.channel, key.user_id)
            load_flow(session, key)

    def expire_idle(self) -> int:
        """End flows idle longer than the limit and tell their users (through the outbox)."""
        now = self.clock.now()
        before = now - timedelta(hours=self.limits.idle_hours)
        done = 0
        with self._write_lock(), Session(self.engine, expire_on_commit=False) as session:
            for row in idle_flows(session, before):
                key = ChatKey(row.channel, row.chat_id, row.user_id)
                request = Request(key.channel, key.chat_id, key.user_id, InputKind.OTHER)
                ctx = Ctx(self, session, request, actor_for(session, key.channel, key.user_id), now)
                ctx.state = state_of(row)
                flow = self.registry.flows.get(row.flow)
                if flow is not None and flow.on_cancel is not None:
                    flow.on_cancel(ctx, ctx.state.data)
                text = render("chat/flow_expired.j2", hours=self.limits.idle_hours)
                enqueue(
                    session,
                    OutboxItem(
                        key=f"flow-expired:{row.channel}:{row.instance}",
                        channel=row.channel,
                        chat_id=row.chat_id,
                        message=Outgoing(text),
                        contact_id=ctx.actor.contact_id if ctx.actor else None,
                        kind="flow_expired",
                    ),
                    now,
                )
                delete_flow(session, row)
                done += 1
            session.commit()
        return done

    def _write_lock(self) -> contextlib.AbstractContextManager[Any]:
        return self._lock if self._lock is not None else contextlib.nullcontext()

    # -- routing
    def _route(self, ctx: Ctx) -> Response:
        said = self._load_flow(ctx)
        outdated = self._typed_number(ctx)
        if outdated is not None:
            outdated.messages[:0] = said
            return outdated
        request = ctx.request
        if request.kind is InputKind.COMMAND:
            response = self._command(ctx)
        elif request.kind is InputKind.BUTTON:
            response = self._button(ctx)
        elif ctx.state is not None:
            response = Response(self._answer(ctx, _answer_of(request)))
        else:
            response = Response([self._idle_reply(ctx)])
        response.messages[:0] = said
        if ctx.page_turned and request.kind is InputKind.BUTTON and response.messages:
            response.edit = response.messages.pop()
        return response

    def _current_expect(self, ctx: Ctx) -> Expect | None:
        if ctx.state is None:
            return None
        flow = self.registry.flows.get(ctx.state.flow)
        return flow.step(ctx.state.step).expect if flow is not None else None

    def _typed_number(self, ctx: Ctx) -> Response | None:
        """The one rule for a number typed on a channel of numbered choices: when the current
        step asks for a typed answer (a figure, a date, a text), it answers that step;
        otherwise it presses that button of the latest message that offered numbered choices.
        A number that message did not offer is answered as outdated, never guessed."""
        request = ctx.request
        if request.kind is not InputKind.TEXT or not _TYPED_NUMBER.fullmatch(request.text):
            return None
        if self.capabilities(request.channel).buttons is not ButtonStyle.NUMBERED:
            return None
        if self._current_expect(ctx) in TYPED_ANSWERS:
            return None
        offered = offered_choices(ctx.session, request.channel, request.chat_id)
        if offered is None and ctx.state is not None:
            return None  # nothing numbered to pick from: the step takes it as typed text
        number = int(request.text)
        current = ctx.state is not None and any(
            data.startswith(f"f:{ctx.state.instance}:") for data in offered or []
        )
        if current and not 1 <= number <= len(offered or []):
            return None  # the flow's own question: it says no choice matches and asks again
        if offered is None or not 1 <= number <= len(offered):
            count = len(offered) if offered else 0
            text = render("channels/number_outdated.j2", number=number, count=count)
            return Response([Outgoing(text)])
        ctx.request = replace(request, kind=InputKind.BUTTON, button=offered[number - 1], text="")
        return None

    def _fit(self, ctx: Ctx, response: Response) -> None:
        """Turn the response's intents into what this channel can show, and remember the
        numbered choices it offers (inside the update's transaction)."""
        request = ctx.request
        caps = self.capabilities(request.channel)
        contact_id = ctx.actor.contact_id if ctx.actor is not None else None
        if ctx.state is not None and ctx.row is not None and ctx.dirty:
            response.prompt = (ctx.row.id, ctx.state.seq)
        if not caps.edits and response.edit is not None:
            response.messages.insert(0, response.edit)
            response.edit = None
        if not caps.popups and response.acknowledge is not None:
            if all(m.text != response.acknowledge for m in response.messages):
                response.messages.insert(0, Outgoing(response.acknowledge))
            response.acknowledge = None

        def fit(message: Outgoing) -> Outgoing:
            return fit_to_channel(message, caps, self.files, contact_id)

        response.fit = fit
        response.messages = [fit(m) for m in response.messages]
        if response.edit is not None:
            response.edit = fit(response.edit)
        if caps.buttons is not ButtonStyle.NUMBERED:
            return
        if self._current_expect(ctx) in TYPED_ANSWERS and ctx.state is not None:
            instance = ctx.state.instance
            response.messages = [
                labels_to_type(m) if _offers(m, instance) else m for m in response.messages
            ]
        offering = [m for m in response.messages if m.buttons]
        if offering:
            data = [b.data for b in numbered(offering[-1].buttons)]
            offer_choices(ctx.session, request.channel, request.chat_id, data, ctx.now)
        elif response.close_pressed:
            forget_choices(ctx.session, request.channel, request.chat_id)

    def _load_flow(self, ctx: Ctx) -> list[Outgoing]:
        loaded = load_flow(ctx.session, ctx.key)
        if loaded is None:
            return []
        ctx.row, ctx.state = loaded
        ctx.labels = ctx.row.labels
        flow = self.registry.flows.get(ctx.state.flow)
        idle = timedelta(hours=self.limits.idle_hours)
        if flow is not None and ctx.state.updated_at + idle >= ctx.now:
            return []
        if flow is not None and flow.on_cancel is not None:
            flow.on_cancel(ctx, ctx.state.data)
        ctx.state, ctx.dirty = None, True
        return [Outgoing(render("chat/flow_expired.j2", hours=self.limits.idle_hours))]

    def _persist(self, ctx: Ctx) -> None:
        if not ctx.dirty:
            return
        if ctx.state is None:
            if ctx.row is not None:
                delete_flow(ctx.session, ctx.row)
            return
        ctx.row = save_flow(ctx.session, ctx.key, ctx.state, ctx.row, ctx.labels)

    def _command(self, ctx: Ctx) -> Response:
        request = ctx.request
        name = request.command or ""
        command = self.registry.command_for(name, request.channel)
        if command is None:
            return Response([Outgoing(render("chat/unknown_command.j2", command=name[:40]))])
        role = ctx.actor.role if ctx.actor else None
        if not allowed(role, command.roles, command.public):
            if ctx.actor is None:
                return Response([Outgoing(render("chat/not_linked.j2"))])
            ctx.audit(f"command:/{name}", f"command:/{name}", "refused", role=role)
            return Response([Outgoing(render("chat/refused_role.j2", command=name))])
        return Response(_messages(command.handler(ctx)))

    def _button(self, ctx: Ctx) -> Response:
        data = ctx.request.button or ""
        if data.startswith("f:"):
            return self._flow_button(ctx, data)
        if ctx.actor is None:
            return self._refuse_button(ctx, data, "unlinked")
        pressed = redeem_button(ctx.session, data, ctx.actor.contact_id, ctx.now)
        if pressed is None:
            return self._refuse_button(ctx, data, "token")
        route = self.registry.buttons.get(pressed.action)
        if route is None:
            return self._refuse_button(ctx, data, "action")
        if not allowed(ctx.actor.role, route.roles):
            return self._refuse_button(ctx, data, "role")
        messages = _messages(route.handler(ctx, pressed))
        response = Response(messages)
        if route.edit and messages:
            response.edit = messages.pop(0)
            response.messages = messages
        return response

    def _flow_button(self, ctx: Ctx, data: str) -> Response:
        parts = data.split(":")
        state = ctx.state
        try:
            instance, seq, index = parts[1], int(parts[2]), int(parts[3])
        except (IndexError, ValueError):
            return self._refuse_button(ctx, data, "malformed")
        if state is None or state.instance != instance or state.seq != seq:
            if state is None or state.instance != instance:
                # not this user's current flow: an old run's button, or data forged from
                # someone else's (a focal point replaying a coordinator's «Đạt»): on record
                ctx.audit("button", data[:64], "refused", reason="not_current_flow")
            caps = self.capabilities(ctx.request.channel)
            if caps.popups:
                return Response(acknowledge=render("chat/button_stale.j2"))
            return Response([Outgoing(render("channels/choice_stale.j2"))])
        chosen = ctx.labels[index] if 0 <= index < len(ctx.labels) else None
        messages = self._answer(ctx, Answer.pressed(index))
        page_turn = ctx.page_turned
        response = Response(messages, chosen=None if page_turn else chosen)
        # The flow ended on this press (sent, cancelled): its last choices must go, not linger.
        response.close_pressed = ctx.state is None
        return response

    def _refuse_button(self, ctx: Ctx, data: str, reason: str) -> Response:
        ctx.audit("button", data[:64], "refused", reason=reason)
        log.warning("button refused reason=%s actor=%s", reason, ctx.request.actor_key)
        text = render("chat/refused_button.j2")
        return Response([Outgoing(text)], acknowledge=text)

    def _answer(self, ctx: Ctx, answer: Answer) -> list[Outgoing]:
        assert ctx.state is not None
        flow = self.registry.flows.get(ctx.state.flow)
        if flow is None:
            ctx.state, ctx.dirty = None, True
            return [Outgoing(render("chat/flow_expired.j2", hours=self.limits.idle_hours))]
        if answer.kind is AnswerKind.TEXT and len(answer.text) > self.limits.max_text_chars:
            reason = Text(
                "chat/invalid_too_long.j2",
                {"length": len(answer.text), "limit": self.limits.max_text_chars},
            )
            outcome = Outcome(ctx.state, [reason], engine_.ask(flow, ctx.state, ctx))
            return ctx.apply(flow, outcome)
        return ctx.apply(flow, engine_.handle(flow, ctx.state, ctx, answer, ctx.now))

    def _idle_reply(self, ctx: Ctx) -> Outgoing:
        """Input outside any flow: explain what can be done, never drop it silently."""
        kind = ctx.request.kind
        if ctx.actor is None:
            return Outgoing(render("chat/not_linked.j2"))
        if len(ctx.request.text) > self.limits.max_text_chars:
            return Outgoing(
                render(
                    "chat/idle_too_long.j2",
                    length=len(ctx.request.text),
                    limit=self.limits.max_text_chars,
                )
            )
        return Outgoing(render("chat/idle_hint.j2", kind=kind.value, role=ctx.actor.role.value))


def _labels(row: Any) -> list[str]:
    return list(json.loads(row.state or "{}").get("labels", []))


def _offers(message: Outgoing, instance: str) -> bool:
    """Whether `message` is a prompt of the flow `instance` (its buttons press that flow)."""
    return any(b.data.startswith(f"f:{instance}:") for row in message.buttons for b in row)


def _plain(message: Outgoing) -> bool:
    return not message.buttons and message.document is None and message.photo is None


def _answer_of(request: Request) -> Answer:
    if request.kind is InputKind.TEXT:
        return Answer.typed(request.text)
    if request.kind is InputKind.FILE and request.file is not None:
        return Answer(AnswerKind.FILE, file=request.file)
    return Answer(AnswerKind.OTHER, other=request.kind.value)


def _messages(reply: Any) -> list[Outgoing]:
    if reply is None:
        return []
    if isinstance(reply, Outgoing):
        return [reply]
    return list(reply)
