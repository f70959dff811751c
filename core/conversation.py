"""Guided flows as core state machines, identical on every channel.

A flow is a list of steps; each step has a prompt (a template reference, never a string), the
answers it accepts (a choice, free text, a number, a date, a file) and validation. The engine
is pure: it takes the saved `FlowState` and one `Answer` and returns the new state plus what to
say. Storage keeps the state in a row keyed by (channel, chat, user), so a restart, or another
worker, resumes at the same step; channel adapters only render `Ask` (inline keyboard on
Telegram, numbered list on the console).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from core.evidence import content_problem
from core.text import clean, fold, is_blank, nfc

FINISH = "@finish"  # a `next` target: run the flow's finish()
CANCEL = "@cancel"  # a `next` target: end the flow without finishing
SKIP = "@skip"  # option value of the "Bỏ qua" button of an optional step
DONE = "@done"  # option value of the "Xong" button of a many-files step
PAGE = "@page:"  # option value prefix of the page navigation buttons


class Expect(StrEnum):
    CHOICE = "choice"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    FILE = "file"


@dataclass(frozen=True)
class Text:
    """Something to say, as a template name and its context: core never holds wording."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


def say(template: str, **context: Any) -> Text:
    return Text(template, context)


@dataclass(frozen=True)
class Choice:
    """One allowed answer of a choice step. `keys` are extra typed forms (e.g. a task ref)."""

    value: str
    label: str | Text
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    """One button of a prompt, in display order (the console numbers them from 1)."""

    value: str
    label: str | Text


@dataclass(frozen=True)
class IncomingFile:
    """A file or photo the user sent; `content` is None when it was too large to fetch, or
    when fetching it failed (`failed`: the user is asked to send it again, not told it is
    too large)."""

    file_name: str
    mime_type: str
    size: int
    content: bytes | None
    failed: bool = False


class AnswerKind(StrEnum):
    TEXT = "text"
    OPTION = "option"  # a button press, or its number typed on the console
    FILE = "file"
    OTHER = "other"  # sticker, voice note, location…: something we cannot read


@dataclass(frozen=True)
class Answer:
    kind: AnswerKind
    text: str = ""
    option: int | None = None  # index into FlowState.options
    file: IncomingFile | None = None
    other: str = ""  # "sticker", "voice", …

    @staticmethod
    def typed(text: str) -> Answer:
        return Answer(AnswerKind.TEXT, text=nfc(text))

    @staticmethod
    def pressed(index: int) -> Answer:
        return Answer(AnswerKind.OPTION, option=index)


class Invalid(Exception):
    """Raised by parsers and checks: the answer does not fit; `reason` explains why."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.template)
        self.reason = reason


@dataclass
class FlowState:
    """Where one user is in one flow; saved as a database row after every answer."""

    flow: str
    step: str
    data: dict[str, Any]
    instance: str  # random id of this run of the flow: buttons of older runs are stale
    started_at: datetime
    updated_at: datetime
    seq: int = 0  # prompt counter: buttons of older prompts are stale
    page: int = 0
    options: list[str] = field(default_factory=list)  # values offered by the last prompt


@dataclass(frozen=True)
class Limits:
    """What a user may send; stated to the user in prompts and refusals."""

    max_text_chars: int = 3000
    max_file_bytes: int = 20 * 1024 * 1024
    file_types: tuple[str, ...] = ("pdf", "doc", "docx", "xls", "xlsx", "jpg", "jpeg", "png", "zip")
    idle_hours: float = 24.0


Callback = Callable[[Any, dict[str, Any]], Any]  # (ctx, data) -> …


@dataclass(frozen=True)
class Step:
    """One question of a flow.

    `prompt(ctx, data)` gives the question; `choices(ctx, data)` the allowed answers of a
    choice step; `parse(ctx, data, answer)` turns a typed answer or file into the value to keep
    (raise `Invalid` to re-ask); `check(ctx, data, value)` validates further. The value is kept
    in `data[key or name]`. `skip` adds an optional "Bỏ qua" button (value None). `when(data)`
    leaves the step out; `next(data)` names the following step (default: the next one that
    applies, then FINISH). A FILE step with `many=True` collects a list until `done` is pressed.
    `after(ctx, data)` runs once the value is kept (to look up what later steps need); a list
    it returns (`Outgoing`s, `Text`s) is sent before the next question.
    """

    name: str
    prompt: Callable[[Any, dict[str, Any]], Text]
    expect: Expect = Expect.TEXT
    choices: Callable[[Any, dict[str, Any]], Sequence[Choice]] | None = None
    key: str | None = None
    parse: Callable[[Any, dict[str, Any], Answer], Any] | None = None
    check: Callable[[Any, dict[str, Any], Any], None] | None = None
    skip: Text | None = None
    when: Callable[[dict[str, Any]], bool] | None = None
    next: Callable[[dict[str, Any]], str] | str | None = None
    many: bool = False
    done: Text | None = None
    received: Callable[[Any, dict[str, Any]], Text] | None = None  # after each file (many)
    after: Callable[[Any, dict[str, Any]], Any] | None = None  # derive data from the answer
    page_size: int = 8
    columns: int = 1

    @property
    def store(self) -> str:
        return self.key or self.name


@dataclass(frozen=True)
class Flow:
    """A named sequence of steps. `finish(ctx, data)` returns what to say at the end."""

    name: str
    steps: Sequence[Step]
    finish: Callable[[Any, dict[str, Any]], Any]
    cancelled: Text = field(default_factory=lambda: say("chat/flow_cancelled.j2"))
    on_cancel: Callable[[Any, dict[str, Any]], None] | None = None  # e.g. drop pending uploads

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"flow {self.name!r} has no step {name!r}")

    def first(self, data: dict[str, Any]) -> str:
        return self._applicable(0, data)

    def following(self, name: str, data: dict[str, Any]) -> str:
        index = [s.name for s in self.steps].index(name)
        return self._applicable(index + 1, data)

    def _applicable(self, start: int, data: dict[str, Any]) -> str:
        for step in self.steps[start:]:
            if step.when is None or step.when(data):
                return step.name
        return FINISH


@dataclass(frozen=True)
class Ask:
    """A prompt ready to render: text, options in display order, what may be typed."""

    text: Text
    options: list[Option]
    expect: Expect
    columns: int = 1


@dataclass
class Outcome:
    """Result of one engine call: the state to save (None: the flow ended) and what to say."""

    state: FlowState | None
    say: list[Any] = field(default_factory=list)  # Text, or Outgoing from a finish()
    ask: Ask | None = None
    finished: bool = False
    cancelled: bool = False
    page_turned: bool = False  # the same question, another page: adapters may edit in place


def new_instance() -> str:
    return secrets.token_hex(4)


def begin(
    flow: Flow,
    ctx: Any,
    now: datetime,
    data: Mapping[str, Any] | None = None,
    step: str | None = None,
) -> Outcome:
    """Start `flow` (at `step` if given, e.g. a reminder button that already names the task)."""
    values = dict(data or {})
    instance = new_instance()
    values["_instance"] = instance  # callbacks may key side data (uploads) by the run
    first = step or flow.first(values)
    state = FlowState(flow.name, first, values, instance, now, now)
    if first == FINISH:
        return _finish(flow, state, ctx, [])
    return Outcome(state, [], ask(flow, state, ctx))


def ask(flow: Flow, state: FlowState, ctx: Any) -> Ask:
    """The prompt of the current step; records the offered options on the state."""
    step = flow.step(state.step)
    options: list[Option] = []
    if step.expect is Expect.CHOICE and step.choices is not None:
        choices = list(step.choices(ctx, state.data))
        pages = max(1, -(-len(choices) // step.page_size))
        state.page = min(max(state.page, 0), pages - 1)
        start = state.page * step.page_size
        options = [Option(c.value, c.label) for c in choices[start : start + step.page_size]]
        if state.page > 0:
            options.append(Option(f"{PAGE}{state.page - 1}", say("chat/button_prev.j2")))
        if state.page < pages - 1:
            options.append(Option(f"{PAGE}{state.page + 1}", say("chat/button_next.j2")))
    items = state.data.get(step.store) if step.many else None
    if step.many and items and step.done is not None:
        options.append(Option(DONE, step.done))
    elif step.skip is not None:
        options.append(Option(SKIP, step.skip))
    state.seq += 1
    state.options = [o.value for o in options]
    return Ask(step.prompt(ctx, state.data), options, step.expect, step.columns)


def handle(flow: Flow, state: FlowState, ctx: Any, answer: Answer, now: datetime) -> Outcome:
    """Apply one answer: store it and move on, or explain what is wrong and ask again."""
    state.updated_at = now
    step = flow.step(state.step)
    value_kind, value = _resolve(step, state, answer)
    if value_kind == "page":
        state.page = int(value)
        return Outcome(state, [], ask(flow, state, ctx), page_turned=True)
    if value_kind == "invalid":
        _audit_refusal(ctx, step, answer, value)
        return Outcome(state, [value], ask(flow, state, ctx))
    if value_kind == "done":
        return _advance(flow, state, ctx, step, [])
    try:
        if value_kind == "skip":
            value = None
        elif value_kind == "raw":
            if answer.kind is AnswerKind.FILE and answer.file is not None:
                check_file(answer.file, getattr(ctx, "limits", Limits()))  # whatever parses it
            value = (
                step.parse(ctx, state.data, value)
                if step.parse
                else _builtin(step, ctx, state.data, value)
            )
        if value is not None and step.check is not None:
            step.check(ctx, state.data, value)
        if step.many and value is not None:
            state.data.setdefault(step.store, []).append(value)
            said = [step.received(ctx, state.data)] if step.received is not None else []
            return Outcome(state, said, ask(flow, state, ctx))
        previous = state.data.get(step.store)
        if not step.many:
            state.data[step.store] = value
        shown: Any = None
        if step.after is not None:
            try:
                shown = step.after(ctx, state.data)
            except Invalid:
                state.data[step.store] = previous
                raise
    except Invalid as exc:
        _audit_refusal(ctx, step, answer, exc.reason)
        return Outcome(state, [exc.reason], ask(flow, state, ctx))
    # `after` may return messages to send before the next question (e.g. files to look at)
    return _advance(flow, state, ctx, step, list(shown) if isinstance(shown, list) else [])


# Refusals that say something about the input itself (a file's type or content, a download,
# an answer made only of invisible characters), not a slip such as a date in the wrong form:
# written to the audit log, so that an operator sees what was refused and why.
_AUDITED = frozenset(
    {
        "chat/invalid_file_type.j2",
        "chat/invalid_file_size.j2",
        "inbound/file_content.j2",
        "inbound/file_download_failed.j2",
    }
)


def _audit_refusal(ctx: Any, step: Step, answer: Answer, reason: Text) -> None:
    audit = getattr(ctx, "audit", None)
    if audit is None:
        return
    invisible = reason.template == "chat/invalid_empty.j2" and answer.text.strip() != ""
    if reason.template not in _AUDITED and not invisible:
        return
    detail: dict[str, Any] = {"step": step.name, "why": reason.template.rsplit("/", 1)[-1][:-3]}
    if answer.file is not None:
        detail["file_name"] = answer.file.file_name[:120]
        detail["reason"] = str(reason.context.get("reason", ""))
    if invisible:
        detail["codepoints"] = [f"U+{ord(c):04X}" for c in answer.text[:16]]
    audit("input_refused", step.name, "refused", **detail)


def cancel(flow: Flow, state: FlowState, ctx: Any) -> Outcome:
    if flow.on_cancel is not None:
        flow.on_cancel(ctx, state.data)
    return Outcome(None, [flow.cancelled], cancelled=True)


def _advance(flow: Flow, state: FlowState, ctx: Any, step: Step, said: list[Any]) -> Outcome:
    # A step reached from an "edit" menu goes back where the menu asked (data["_return"]).
    back = state.data.pop("_return", None)
    if callable(step.next):
        target = step.next(state.data)
    elif isinstance(step.next, str):
        target = step.next
    else:
        target = flow.following(step.name, state.data)
    if back and target not in (FINISH, CANCEL):
        target = back
    if target == CANCEL:
        return cancel(flow, state, ctx)
    if target == FINISH:
        return _finish(flow, state, ctx, said)
    state.step, state.page = target, 0
    return Outcome(state, said, ask(flow, state, ctx))


def _finish(flow: Flow, state: FlowState, ctx: Any, said: list[Any]) -> Outcome:
    result = flow.finish(ctx, state.data)
    if result is None:
        items: list[Any] = []
    elif isinstance(result, list | tuple):
        items = list(result)
    else:
        items = [result]
    return Outcome(None, said + items, finished=True)


def _resolve(step: Step, state: FlowState, answer: Answer) -> tuple[str, Any]:
    """Classify an answer: ("option", value), ("page", n), ("skip"|"done", None),
    ("raw", answer) for the parser, or ("invalid", Text)."""
    if answer.kind is AnswerKind.OPTION:
        if answer.option is None or not 0 <= answer.option < len(state.options):
            return "invalid", say("chat/invalid_choice.j2", count=len(state.options))
        return _option(state.options[answer.option])
    if answer.kind is AnswerKind.OTHER:
        return "invalid", say("chat/invalid_media.j2", media=answer.other, expect=str(step.expect))
    if answer.kind is AnswerKind.FILE:
        if step.expect is not Expect.FILE:
            return "invalid", say("chat/invalid_file_here.j2", expect=str(step.expect))
        return "raw", answer
    typed = clean(answer.text)
    if not typed or is_blank(typed):
        return "invalid", say("chat/invalid_empty.j2", expect=str(step.expect))
    picked = _typed_option(step, state, typed)
    if picked is not None:
        return _option(picked)
    if step.expect is Expect.CHOICE:
        if step.choices is not None:
            return "raw", answer  # matched against every choice (all pages) below
        return "invalid", say("chat/invalid_choice.j2", count=len(state.options))
    if step.expect is Expect.FILE:
        return "invalid", say("chat/invalid_text_for_file.j2")
    return "raw", answer


def _option(value: str) -> tuple[str, Any]:
    if value.startswith(PAGE):
        return "page", int(value[len(PAGE) :])
    if value == SKIP:
        return "skip", None
    if value == DONE:
        return "done", None
    return "option", value


def _typed_option(step: Step, state: FlowState, typed: str) -> str | None:
    """A typed number (choice steps only) or a typed button label picks that button."""
    if step.expect is Expect.CHOICE and typed.isdigit():
        index = int(typed) - 1
        if 0 <= index < len(state.options):
            return state.options[index]
    wanted = fold(typed)
    labels = {SKIP: step.skip, DONE: step.done}
    for value in state.options:
        label = labels.get(value)
        if isinstance(label, Text) and wanted in _label_words(label):
            return value
    return None


def _label_words(label: Text) -> tuple[str, ...]:
    """Typed forms of the standard buttons ("bỏ qua", "xong"), so console users can type them."""
    words = {
        "chat/button_skip.j2": ("bo qua", "skip", "khong"),
        "chat/button_done.j2": ("xong", "done", "het"),
        "chat/button_no_figure.j2": ("bo qua", "chua co", "chua co so lieu", "khong co"),
    }
    return words.get(label.template, ())


def _builtin(step: Step, ctx: Any, data: dict[str, Any], answer: Answer) -> Any:
    limits: Limits = getattr(ctx, "limits", Limits())
    if step.expect is Expect.FILE:
        assert answer.file is not None
        check_file(answer.file, limits)
        return answer.file
    text = clean(answer.text)
    if step.expect is Expect.TEXT:
        return check_text(answer.text, limits)
    if step.expect is Expect.NUMBER:
        number = parse_number(text)
        if number is None:
            raise Invalid(say("chat/invalid_number.j2"))
        return number
    if step.expect is Expect.DATE:
        day = parse_date(text)
        if day is None:
            raise Invalid(say("chat/invalid_date.j2"))
        return day.isoformat()
    assert step.choices is not None
    return match_choice(step.choices(ctx, data), text)


def match_choice(choices: Sequence[Choice], typed: str) -> str:
    """The value of the choice whose label or key is `typed` (case/diacritics-insensitive)."""
    wanted = fold(typed)
    for choice in choices:
        forms = [choice.value, *choice.keys]
        if isinstance(choice.label, str):
            forms.append(choice.label)
        if wanted in (fold(f) for f in forms):
            return choice.value
    raise Invalid(say("chat/invalid_choice_text.j2", typed=typed[:80]))


def check_text(raw: str, limits: Limits) -> str:
    """Free text as stored: NFC, trimmed, within the stated length limit."""
    text = nfc(raw).strip()
    if not text or is_blank(text):
        raise Invalid(say("chat/invalid_empty.j2", expect="text"))
    if len(text) > limits.max_text_chars:
        limit = limits.max_text_chars
        raise Invalid(say("chat/invalid_too_long.j2", length=len(text), limit=limit))
    return text


def file_extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_file(file: IncomingFile, limits: Limits) -> None:
    """Type and size rules stated to the user before they send anything, then the content
    (core.evidence): what the file holds must be what its extension says."""
    max_mb = limits.max_file_bytes / (1024 * 1024)
    if file.failed:
        raise Invalid(say("inbound/file_download_failed.j2", file_name=file.file_name))
    if file_extension(file.file_name) not in limits.file_types:
        raise Invalid(
            say(
                "chat/invalid_file_type.j2",
                file_name=file.file_name,
                types=list(limits.file_types),
                max_mb=max_mb,
            )
        )
    if file.size > limits.max_file_bytes or file.content is None:
        reason = say(
            "chat/invalid_file_size.j2", file_name=file.file_name, size=file.size, max_mb=max_mb
        )
        raise Invalid(reason)
    problem = content_problem(file.file_name, file.content)
    if problem is not None:
        raise Invalid(
            say(
                "inbound/file_content.j2",
                reason=problem,
                file_name=file.file_name,
                extension=file_extension(file.file_name),
                types=list(limits.file_types),
                max_mb=max_mb,
            )
        )


_NUMBER = re.compile(r"^([-+]?\d{1,12}(?:[.,]\d{1,6})?)\s*(%?)")


def parse_number(text: str) -> float | None:
    """ "95", "95,5", "95.5 %", "03 cuộc" → the leading number; anything else → None."""
    match = _NUMBER.match(clean(text))
    if match is None:
        return None
    return float(match.group(1).replace(",", "."))


_DATE_FORMS = (
    re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$"),  # 05/07/2024, 5-7-2024
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),  # 2024-07-05
)


def parse_date(text: str) -> date | None:
    """Vietnamese order (day/month/year) or ISO; None when it is not a real date."""
    text = clean(text)
    for index, pattern in enumerate(_DATE_FORMS):
        match = pattern.match(text)
        if match is None:
            continue
        a, b, c = (int(g) for g in match.groups())
        day, month, year = (a, b, c) if index == 0 else (c, b, a)
        try:
            return date(year, month, day)
        except ValueError:
            return None
    return None
