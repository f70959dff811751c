"""The `parbot` command line (Typer). Sub-commands live in `bot/cli_*.py` modules."""

from __future__ import annotations

import typer

from bot import cli_chat, cli_plan, cli_report, cli_schedule

app = typer.Typer(no_args_is_help=True, help="parbot: kế hoạch cải thiện PAR INDEX trong chat.")
cli_plan.register(app)
# Feature command groups register here, one line each.
cli_chat.register(app)
cli_report.register(app)
cli_schedule.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
