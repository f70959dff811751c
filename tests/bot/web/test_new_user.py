"""A newcomer's path to the dashboard: `make run` prints its address, and `/web` typed in the
console (no Telegram token) gives a link that signs in and opens *Tổng quan*."""

from __future__ import annotations

import asyncio
import os
import subprocess

import httpx

from tests.bot.channels.console.test_console import ROOT, make_run_commands
from tests.bot.test_run import free_port


def test_make_run_prints_the_dashboard_address():
    dry = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "Trang web: http://127.0.0.1:8080" in dry


async def test_web_in_the_console_gives_a_link_that_opens_the_dashboard(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "PARBOT_"))}
    env["PARBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'parbot.db'}"
    *prepare, run = make_run_commands()
    for command in prepare:
        subprocess.run(command, cwd=tmp_path, env=env, check=True, capture_output=True)
    port = free_port()
    env["PARBOT_WEB_LISTEN"] = f"127.0.0.1:{port}"  # what `make run` exports
    bot = await asyncio.create_subprocess_exec(
        *run,
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert bot.stdin is not None and bot.stdout is not None
    try:
        bot.stdin.write("2\nnội vụ\n/web\n".encode())  # coordinator of Sở Nội vụ, then /web
        await bot.stdin.drain()
        link = ""
        while not link:
            line = (await asyncio.wait_for(bot.stdout.readline(), 60)).decode()
            assert line, "the console ended before giving a link"
            link = next((w for w in line.split() if w.startswith("http")), "")
        assert link.startswith(f"http://127.0.0.1:{port}/")
        async with httpx.AsyncClient(follow_redirects=True, timeout=30) as browser:
            shown = await browser.get(link)
            csrf = shown.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            signed = await browser.post(link, data={"csrf": csrf})
        assert signed.status_code == 200 and signed.url.path == "/tong-quan"
        assert "<h1>Tổng quan" in signed.text and "Sở Nội vụ" in signed.text
    finally:
        bot.stdin.close()
        await asyncio.wait_for(bot.wait(), 60)
