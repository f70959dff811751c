"""Click's and Typer's own words (help pages, usage lines, error messages) in Vietnamese.

Typer's rich help marks its panel titles for translation with `gettext` (`_("Options")`) but
ships no Vietnamese catalogue, so a Python translator is put in its module's `_` and the
constants it read at import are set again. Typer 0.29 carries its own copy of Click, whose
texts are plain English strings: its usage prefix and help option are set here, and its
errors are matched by pattern and printed as one Vietnamese line naming the next command
(`parbot plan import --help`) instead of a panel. Every word is in `cli/click_words.j2`,
like every other word parbot writes.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from typing import Any

from messages.render import environment

_RICH_CONSTANTS = {
    "DEPRECATED_STRING": "(deprecated) ",
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
}


@cache
def _module() -> Any:
    return environment().get_template("cli/click_words.j2").module


@cache
def words() -> dict[str, str]:
    return dict(_module().words)


@cache
def _errors() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(pattern, re.S), replacement) for pattern, replacement in _module().errors]


def gettext(message: str) -> str:
    return words().get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


def error_message(english: str) -> str:
    """A Click error message in Vietnamese (the last pattern catches anything unknown)."""
    for pattern, replacement in _errors():
        if pattern.match(english):
            return pattern.sub(replacement, english, count=1)
    return english


def error_line(exc: Any) -> str:
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "parbot"
    return str(_module().error_line(error_message(exc.format_message()), command))


def _print_error(exc: Any) -> None:
    """Replaces Typer's error panel: one line on stderr, with where to look next."""
    if exc.__class__.__name__ == "NoArgsIsHelpError":
        return
    print(error_line(exc), file=sys.stderr)


def install() -> None:
    """Put the Vietnamese words into Typer (and its Click) before anything is printed."""
    import typer.core
    import typer.rich_utils

    for module in (typer.core, typer.rich_utils):
        module._ = gettext  # type: ignore[attr-defined]
    for name, message in _RICH_CONSTANTS.items():
        if hasattr(typer.rich_utils, name):
            setattr(typer.rich_utils, name, gettext(message))
    typer.rich_utils.rich_format_error = _print_error  # type: ignore[assignment]
    display_type = typer.core._TyperParameter.display_type
    types = dict(_module().types)

    def type_in_vietnamese(self: Any, ctx: Any) -> str:
        shown = display_type(self, ctx)
        return types.get(shown, shown)

    typer.core._TyperParameter.display_type = type_in_vietnamese  # type: ignore[method-assign]
    _patch_vendored_click()


def _patch_vendored_click() -> None:
    try:
        from typer._click import core, formatting
        from typer._click.exceptions import ClickException
    except ImportError:  # a Typer that uses the real Click: its gettext hooks suffice
        return
    module = _module()
    metavars = dict(module.metavars)
    write_usage = formatting.HelpFormatter.write_usage

    def usage_in_vietnamese(
        self: Any, prog: str, args: str = "", prefix: str | None = None
    ) -> None:
        args = " ".join(metavars.get(piece, piece) for piece in args.split(" "))
        write_usage(self, prog, args, module.usage if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = usage_in_vietnamese  # type: ignore[method-assign]
    get_help_option = core.Command.get_help_option

    def help_option(self: Any, ctx: Any) -> Any:
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = str(module.help_option)
        return option

    core.Command.get_help_option = help_option  # type: ignore[method-assign]

    def show(self: Any, file: Any = None) -> None:
        print(error_line(self), file=file or sys.stderr)

    ClickException.show = show  # type: ignore[method-assign]
