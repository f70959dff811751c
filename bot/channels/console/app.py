"""The console chat loop: one local user, stdin in, stdout out; works when piped (no TTY).

A text channel: a typed number goes to the dispatcher as text, which applies the one rule for
numbers (a figure step takes it; otherwise it presses that choice of the latest numbered
message, reply or reminder alike, remembered in the database). `/tep PATH` attaches a file;
`/thoat` or end of input exits cleanly. On start the pending question of an open flow is
asked again: a terminal keeps no history.
"""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select
from sqlmodel import Session

from bot.channels.console.channel import ConsoleChannel
from bot.chat.dispatcher import Dispatcher, Response
from core.commands import InputKind, Request
from core.conversation import IncomingFile
from core.text import nfc
from messages.render import render
from storage.chat.state import ChatKey, actor_for
from storage.tables.shared import Agency, Plan, Task

CHANNEL = "console"
EXIT_WORDS = {"/thoat", "/exit", "/quit"}


class ConsoleChat:
    def __init__(
        self,
        dispatcher: Dispatcher,
        out: TextIO,
        user_id: str = "console",
        display_name: str = "Người dùng thử",
        echo: bool = False,
        channel: ConsoleChannel | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.out = out
        self.user_id = user_id
        self.display_name = display_name
        self.echo = echo
        self.channel = channel or ConsoleChannel(out)
        dispatcher.attach(self.channel)

    def request(self, kind: InputKind, **fields: object) -> Request:
        return Request(
            CHANNEL,
            self.user_id,
            self.user_id,
            kind,
            display_name=self.display_name,
            **fields,  # type: ignore[arg-type]
        )

    def welcome(self) -> None:
        engine = self.dispatcher.engine
        with Session(engine) as session:
            agencies = session.execute(select(func.count()).select_from(Agency)).scalar_one()
            tasks = session.execute(select(func.count()).select_from(Task)).scalar_one()
            plan = session.execute(select(Plan.code).order_by(Plan.id.desc())).scalars().first()
            actor = actor_for(session, CHANNEL, self.user_id)
        self.write(
            render(
                "chat/console_guide.j2",
                agencies=agencies,
                tasks=tasks,
                plan=plan or "—",
                role=actor.role.value if actor else None,
                agency=actor.agency_name if actor else None,
            )
        )
        if actor is None:
            self.show(self.dispatcher.handle(self.request(InputKind.COMMAND, command="dongvai")))
            return
        pending = self.dispatcher.pending_prompt(ChatKey(CHANNEL, self.user_id, self.user_id))
        if pending is not None:
            self.show(pending)

    def feed(self, raw: str) -> bool:
        """Handle one line; False when the user asked to leave."""
        line = nfc(raw.rstrip("\r\n")).strip()
        if self.echo:
            self.out.write(f"› {line}\n")
        if not line:
            return True
        if line.lower() in EXIT_WORDS:
            return False
        request = self.parse(line)
        if request is None:
            return True
        self.show(self.dispatcher.handle(request))
        return True

    def parse(self, line: str) -> Request | None:
        if line.startswith("/tep") and (len(line) == 4 or line[4] == " "):
            return self.attach(line[4:].strip())
        if line.startswith("/") and len(line) > 1:
            head, _, rest = line[1:].partition(" ")
            return self.request(InputKind.COMMAND, command=head.lower(), text=rest.strip())
        return self.request(InputKind.TEXT, text=line)

    def attach(self, raw_path: str) -> Request | None:
        path = Path(raw_path.strip("\"'")).expanduser()
        if not raw_path or not path.is_file():
            self.write(render("chat/console_no_file.j2", path=raw_path))
            return None
        size = path.stat().st_size
        content = path.read_bytes() if size <= self.dispatcher.limits.max_file_bytes else None
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return self.request(InputKind.FILE, file=IncomingFile(path.name, mime, size, content))

    def show(self, response: Response) -> None:
        """Print the replies (already fitted to the console's capabilities by the dispatcher)."""
        for message in response.messages:
            self.channel.write(message)
        self.dispatcher.prompt_sent(response)

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def arun(self, stdin: TextIO, welcomed: bool = False) -> int:
        """The same loop without blocking an event loop (background jobs keep running);
        `welcomed`: the guide and the pending question were shown already."""
        interactive = stdin.isatty()
        if not welcomed:
            await asyncio.to_thread(self.welcome)
        while True:
            if interactive:
                self.out.write("› ")
                self.out.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            if not await asyncio.to_thread(self.feed, line):
                break
        self.write(render("chat/console_bye.j2"))
        return 0

    def run(self, stdin: TextIO) -> int:
        interactive = stdin.isatty()
        self.welcome()
        while True:
            if interactive:
                self.out.write("› ")
                self.out.flush()
            line = stdin.readline()
            if not line:
                break
            if not self.feed(line):
                break
        self.write(render("chat/console_bye.j2"))
        return 0
