"""The console chat loop: one local user, stdin in, stdout out; works when piped (no TTY).

Numbers pick buttons of the latest prompt (unless the step wants typed text, where a number is
an answer); `/tep PATH` attaches a file; `/thoat` or end of input exits cleanly.
"""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select
from sqlmodel import Session

from bot.channels.console.render import as_text
from bot.chat.dispatcher import Dispatcher, Response
from core.commands import InputKind, Request
from core.conversation import IncomingFile
from core.text import nfc
from messages.render import render
from storage.chat.state import actor_for
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
    ) -> None:
        self.dispatcher = dispatcher
        self.out = out
        self.user_id = user_id
        self.display_name = display_name
        self.echo = echo
        self.buttons: list[str] = []
        self.expects_text = False

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
        if line.isdigit() and not self.expects_text and 1 <= int(line) <= len(self.buttons):
            return self.request(InputKind.BUTTON, button=self.buttons[int(line) - 1])
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
        if response.notice and not response.messages and response.edit is None:
            self.write(f"parbot ▸ {response.notice}")
        messages = ([response.edit] if response.edit is not None else []) + response.messages
        if messages:
            self.buttons = []
        self.expects_text = response.expects_text
        for message in messages:
            data = [button.data for row in message.buttons for button in row]
            if data:
                self.buttons = data
            self.write(as_text(message, numbered=not self.expects_text or not data))

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def arun(self, stdin: TextIO) -> int:
        """The same loop without blocking an event loop (background jobs keep running)."""
        interactive = stdin.isatty()
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
