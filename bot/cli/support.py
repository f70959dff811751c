"""What every `parbot` command group shares: the database from settings and how errors end.

Errors are one Vietnamese line on stderr, naming the next command to run, and exit code 2.
A command that needs the schema checks for it first (`ready_engine`), so running things in
the wrong order on a fresh clone says what to do instead of printing a traceback, and never
leaves an empty database file behind.
"""

from __future__ import annotations

from typing import NoReturn

import typer
from sqlalchemy.engine import Engine

from bot.app import engine_from_settings
from bot.settings import Settings
from messages.render import render
from storage.db import normalise_url
from storage.migrate import SchemaState, schema_state


def fail(message: str) -> NoReturn:
    """A Vietnamese message on stderr and exit code 2: the database is left as it was."""
    typer.echo(render("cli/error.j2", message=message), err=True)
    raise typer.Exit(2)


def get_engine() -> Engine:
    return engine_from_settings(Settings())


def ready_engine(settings: Settings | None = None) -> Engine:
    """The engine, once the database exists at the current schema; otherwise `fail` with the
    command that mends it (`parbot db upgrade`)."""
    settings = settings or Settings()
    url = normalise_url(settings.database_url)
    engines: list[Engine] = []

    def engine_of() -> Engine:
        engines.append(engine_from_settings(settings))
        return engines[0]

    state = schema_state(url, engine_of)
    if state is not SchemaState.CURRENT:
        for engine in engines:
            engine.dispose()
        fail(render("cli/schema_not_ready.j2", state=state.value))
    return engines[0]
