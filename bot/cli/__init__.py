"""The `parbot` command line (Typer). One module per command group in `bot/cli/`."""

from __future__ import annotations

import typer

from bot.cli import chat as cli_chat
from bot.cli import plan as cli_plan
from bot.cli import report as cli_report
from bot.cli import schedule as cli_schedule
from bot.cli import web as cli_web

app = typer.Typer(no_args_is_help=True, help="parbot: kế hoạch cải thiện PAR INDEX trong chat.")
cli_plan.register(app)
# Feature command groups register here, one line each.
cli_chat.register(app)
cli_report.register(app)
cli_schedule.register(app)
cli_web.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
