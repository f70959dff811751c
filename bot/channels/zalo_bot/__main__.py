"""`python -m bot.channels.zalo_bot`: the same as `parbot run` (which starts the Zalo Bot
Platform channel whenever ZALO_BOT_TOKEN is set), refusing to start without the token."""

from __future__ import annotations

import sys

from bot.runtime import main as run
from bot.settings import Settings
from messages.render import render


def main() -> int:
    settings = Settings()
    if settings.zalo_bot_token is None:
        print(render("zalo/run_no_token.j2"), file=sys.stderr)
        return 2
    return run(settings)


if __name__ == "__main__":
    raise SystemExit(main())
