"""The Telegram channel the delivery worker sends through, with a PTB `Bot` of its own.

Its HTTP transport reports when each request has been written (bot/channels/written_signal.py),
which keeps the window in which a crash leaves a delivery uncertain to one request; the chat's
polling bot keeps its own connection pool.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.written_signal import signalling_transport
from storage.chat.evidence import evidence_loader


def delivery_bot(token: str, api_url: str, proxy: str | None = None) -> Bot:
    root = api_url.rstrip("/")
    request = HTTPXRequest(
        connection_pool_size=32,
        pool_timeout=30,
        read_timeout=15,
        # the proxy goes inside the signalling transport: given to httpx beside it, it would
        # mount a transport of its own and the written signal would never fire
        httpx_kwargs={"transport": signalling_transport(32, proxy=proxy), "trust_env": False},
    )
    return Bot(token, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot", request=request)


def delivery_channel(
    token: str,
    api_url: str,
    engine: Engine,
    username: str | None = None,
    proxy: str | None = None,
) -> tuple[TelegramChannel, Bot]:
    """The channel and its bot (`async with bot:` around the worker's life)."""
    bot = delivery_bot(token, api_url, proxy)
    return TelegramChannel(bot, evidence_loader(engine), username), bot
