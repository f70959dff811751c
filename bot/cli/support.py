"""What every `parbot` command group shares: the database from settings and how errors end."""

from __future__ import annotations

from typing import NoReturn

import typer
from sqlalchemy.engine import Engine

from bot.app import engine_from_settings
from bot.settings import Settings
from messages.render import render


def fail(message: str) -> NoReturn:
    """A Vietnamese message on stderr and exit code 2: the database is left as it was."""
    typer.echo(render("cli/error.j2", message=message), err=True)
    raise typer.Exit(2)


def get_engine() -> Engine:
    return engine_from_settings(Settings())
