"""`python -m tests.fakes.zalo`: the fake Bot Platform and OA servers, started by hand.

Prints the settings to point parbot at them, then reads lines from stdin to play a Zalo user:
`USER text…` sends "text…" to the bot as USER (e.g. `u1 /start ABCD…`), `USER @image PATH`
sends the picture at PATH (evidence sent in the chat); replies are printed. Scripts can do the
same over HTTP: see FakeZaloBot._user (POST /_user/text, POST /_user/image, GET /_user/replies).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from tests.fakes.zalo.bot import FakeZaloBot
from tests.fakes.zalo.oa import FakeZaloOA


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.zalo")
    parser.add_argument("--port", type=int, default=8790, help="Bot Platform port")
    parser.add_argument("--oa-port", type=int, default=8791, help="OA port")
    parser.add_argument("--token", default="1234567890:fake-zalo-token-for-trying")
    args = parser.parse_args()
    bot = FakeZaloBot(args.token, port=args.port, poll_cap=30).start()
    oa = FakeZaloOA(port=args.oa_port).start()
    print("Fake Zalo Bot Platform and OA running. In another terminal:")
    print(f"  ZALO_BOT_TOKEN={bot.token} ZALO_BOT_API_URL={bot.base_url} parbot run")
    print(f"  (OA: ZALO_OA_API_URL={oa.base_url} ZALO_OAUTH_URL={oa.base_url})")
    print("Type `USER text` to write as a Zalo user (e.g. `u1 /start CODE`), `USER @image PATH`")
    print("to send a picture, Ctrl+D to stop. Scripts: POST /_user/text {user, text},")
    print(
        f"POST /_user/image?user=… (image bytes), GET /_user/replies?user=…&since=N at "
        f"{bot.base_url}"
    )
    shown = [0]

    def show_replies() -> None:
        while True:
            calls = bot.sent()
            for call in calls[shown[0] :]:
                print(f"bot → {call.chat_id}: {call.text}")
            shown[0] = len(calls)
            time.sleep(0.2)

    threading.Thread(target=show_replies, daemon=True).start()
    for line in sys.stdin:
        user, _, text = line.strip().partition(" ")
        if user and text.startswith("@image "):
            path = Path(text.removeprefix("@image ").strip()).expanduser()
            if not path.is_file():
                print(f"no such file: {path}")
                continue
            bot.inject(bot.make_image(user, path.read_bytes()))
        elif user and text:
            bot.inject(bot.make_text(user, text))
    bot.stop()
    oa.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
