"""The chat extension registry: commands, button actions and guided flows that features plug in.

Channel-independent on purpose: a feature registers here once and works on Telegram, the
console and any later channel. Roles are enforced by the dispatcher through `allowed()` before
a handler runs, so a handler never has to remember to check who is calling. See
docs/chat-extensions.md for a worked example.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast
from zoneinfo import ZoneInfo

from core.calendar import SendWindow
from core.channel import Capabilities
from core.conversation import Flow, IncomingFile, Limits
from core.files import FileLinks
from core.model import UserRole
from core.outgoing import Button, Outgoing

ALL_ROLES: frozenset[UserRole] = frozenset(UserRole)
STAFF: frozenset[UserRole] = frozenset({UserRole.COORDINATOR, UserRole.ADMIN})
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Actor:
    """The linked chat user behind a request (a Contact row, as core sees it)."""

    contact_id: int
    channel: str
    user_id: str
    chat_id: str
    role: UserRole
    agency_id: int | None
    agency_code: str | None = None
    agency_name: str = ""
    display_name: str = ""

    @property
    def key(self) -> str:
        """Who did it, for audit rows: "telegram:123"."""
        return f"{self.channel}:{self.user_id}"


@dataclass(frozen=True)
class ChatConfig:
    """The settings chat features need, read once by the composition root (bot/app.py) and
    handed to every handler as `ctx.config`: no handler builds `Settings()` itself."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    data_dir: Path = Path("data")
    report_issuer: str = "SNV"  # agency code that issues the compiled Word report
    report_place: str | None = None  # place in the report's date line; None: the plan's issuer
    report_signer: str = ""
    report_signer_title: str = "GIÁM ĐỐC"  # "|" splits it in two lines (KT. GIÁM ĐỐC|PHÓ…)
    web_url: str | None = None  # public base of the web companion; None: no web server
    send_window: SendWindow = field(default_factory=SendWindow)  # broadcasts wait for it
    digest_time: time = time(7, 30)  # when the daily digest goes out (shown by /caidat)


class InputKind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    FILE = "file"  # a document or a photo
    STICKER = "sticker"
    VOICE = "voice"
    OTHER = "other"


@dataclass(frozen=True)
class Request:
    """One thing a user did, as every channel reports it."""

    channel: str
    chat_id: str
    user_id: str
    kind: InputKind
    text: str = ""  # NFC; for a command, the arguments after its name
    command: str | None = None  # lower-case name without "/"
    button: str | None = None  # raw callback data: untrusted until redeemed
    file: IncomingFile | None = None
    # The channel's de-duplication key (Telegram: the update_id; Zalo: the message id); a
    # request whose key was seen before changes nothing. None: no replays (console).
    dedupe_key: str | None = None
    display_name: str = ""

    @property
    def actor_key(self) -> str:
        return f"{self.channel}:{self.user_id}"


class PressedButton(Protocol):
    """A redeemed button (storage.chat.buttons.ButtonAction): its token belonged to the presser."""

    @property
    def action(self) -> str: ...
    @property
    def args(self) -> dict[str, Any]: ...
    @property
    def contact_id(self) -> int: ...


class ChatContext(Protocol):
    """What handlers and flow callbacks receive (built by the dispatcher in bot/chat/)."""

    request: Request
    actor: Actor | None  # None: the user is not linked yet (only public commands run then)
    now: datetime  # aware UTC, from the app's Clock
    session: Any  # the open storage Session of this update's transaction
    limits: Limits
    config: ChatConfig
    registry: Registry  # e.g. registry.menu(role, channel) for a help text
    cache: dict[str, Any]  # per-update memo: ports built once per update (`per_update`)
    capabilities: Capabilities  # what the request's channel can show and carry
    files: FileLinks  # signed links for files the channel cannot carry (None: no web server)

    @property
    def flow_name(self) -> str | None:
        """The flow the user is in, if any."""
        ...

    def cancel_flow(self) -> list[Outgoing] | None:
        """End the current flow (its on_cancel runs); None when there was none."""
        ...

    def button(self, text: str, action: str, args: Mapping[str, Any] | None = None) -> Button:
        """A button bound to this actor: callback data is a server-side token."""
        ...

    def start_flow(
        self, name: str, data: Mapping[str, Any] | None = None, step: str | None = None
    ) -> list[Outgoing]:
        """Replace any current flow with `name` and return its first prompt."""
        ...

    def render(self, template: str, **context: Any) -> str:
        """messages.render: every user-facing word is a template."""
        ...

    def invite_link(self, code: str) -> str | None:
        """A link that redeems invite `code` on this request's channel (Telegram's t.me deep
        link); None where the code must be sent to the bot as text."""
        ...

    def audit(self, action: str, target: str = "", outcome: str = "ok", **detail: Any) -> None:
        """Add an audit_log row in this update's transaction."""
        ...

    def after_commit(self, job: Callable[[Any], Sequence[Outgoing]]) -> None:
        """Run `job(session)` once this update has committed, outside the write lock and off
        the event loop, in a read-only session of its own; its messages follow the replies.

        For slow read-only work (compiling a report): on SQLite every update is serialised,
        so doing it inside the transaction would hold every other user's update back.
        """
        ...


Reply = Outgoing | Sequence[Outgoing] | None
CommandHandler = Callable[[ChatContext], Reply]
ButtonHandler = Callable[[ChatContext, PressedButton], Reply]


@dataclass(frozen=True)
class Command:
    """A slash command. `roles` None: any linked user; `public`: unlinked users too."""

    name: str  # ASCII: "baocao"
    description: str  # Vietnamese, shown in the Telegram command menu and /help
    handler: CommandHandler
    roles: frozenset[UserRole] | None = None
    public: bool = False
    channels: frozenset[str] | None = None  # None: every channel; {"console"}: console only
    menu: bool = True  # listed by setMyCommands and /help


@dataclass(frozen=True)
class ButtonRoute:
    """A button action name (ButtonToken.action) and what pressing it does.

    `edit`: the handler's first message replaces the pressed one (paging), instead of a new
    message under it.
    """

    action: str
    handler: ButtonHandler
    roles: frozenset[UserRole] | None = None
    edit: bool = False


@dataclass
class Registry:
    """Everything the chat understands. Built at start-up by `bot.runtime.build_registry()`."""

    commands: dict[str, Command] = field(default_factory=dict)
    buttons: dict[str, ButtonRoute] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)

    def add_command(
        self,
        name: str,
        description: str,
        handler: CommandHandler,
        roles: Iterable[UserRole] | None = None,
        *,
        public: bool = False,
        channels: Iterable[str] | None = None,
        menu: bool = True,
    ) -> Command:
        if not _NAME.match(name):
            raise ValueError(f"command name must be ASCII a-z0-9_ (≤ 32): {name!r}")
        if name in self.commands:
            raise ValueError(f"command /{name} is registered twice")
        command = Command(
            name,
            description,
            handler,
            frozenset(roles) if roles is not None else None,
            public,
            frozenset(channels) if channels is not None else None,
            menu,
        )
        self.commands[name] = command
        return command

    def add_button(
        self,
        action: str,
        handler: ButtonHandler,
        roles: Iterable[UserRole] | None = None,
        *,
        edit: bool = False,
    ) -> ButtonRoute:
        if action in self.buttons or action == "flow":
            raise ValueError(f"button action {action!r} is registered twice or reserved")
        route = ButtonRoute(action, handler, frozenset(roles) if roles is not None else None, edit)
        self.buttons[action] = route
        return route

    def add_flow(self, flow: Flow) -> Flow:
        if flow.name in self.flows:
            raise ValueError(f"flow {flow.name!r} is registered twice")
        self.flows[flow.name] = flow
        return flow

    def command_for(self, name: str, channel: str) -> Command | None:
        command = self.commands.get(name)
        if command is None or (command.channels is not None and channel not in command.channels):
            return None
        return command

    def menu(self, role: UserRole | None, channel: str) -> list[Command]:
        """Commands a user of `role` (None: not linked) may run on `channel`, for menus/help."""
        return [
            c
            for c in self.commands.values()
            if c.menu
            and (c.channels is None or channel in c.channels)
            and allowed(role, c.roles, c.public)
        ]


T = TypeVar("T")


def per_update(ctx: ChatContext, key: str, build: Callable[[], T]) -> T:
    """`build()` once per update, kept in `ctx.cache` under `key`: a feature's port on the
    update's session, shared by the prompt, the choices and the check of one step."""
    if key not in ctx.cache:
        ctx.cache[key] = build()
    return cast(T, ctx.cache[key])


def allowed(role: UserRole | None, roles: frozenset[UserRole] | None, public: bool = False) -> bool:
    """The one rule for commands and buttons: unlinked users only reach public entries."""
    if role is None:
        return public
    return roles is None or role in roles
