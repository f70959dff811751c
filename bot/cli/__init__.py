"""The `parbot` command line (Typer). One module per command group in `bot/cli/`."""

from __future__ import annotations

import typer

from bot.cli import vietnamese

vietnamese.install()  # before any help or error is written: Click's own words in Vietnamese

from bot.cli import backup as cli_backup  # noqa: E402
from bot.cli import chat as cli_chat  # noqa: E402
from bot.cli import plan as cli_plan  # noqa: E402
from bot.cli import report as cli_report  # noqa: E402
from bot.cli import schedule as cli_schedule  # noqa: E402
from bot.cli import web as cli_web  # noqa: E402
from bot.cli import zalo as cli_zalo  # noqa: E402

# no shell-completion options: their help is English and nobody here needs them
app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="parbot: kế hoạch cải thiện PAR INDEX trong chat.",
)
cli_plan.register(app)
cli_backup.register(app)  # `parbot db backup`
# Feature command groups register here, one line each.
cli_chat.register(app)
cli_report.register(app)
cli_schedule.register(app)
cli_zalo.register(app)
cli_web.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
