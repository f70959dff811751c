"""Fake Zalo Bot Platform and Official Account servers over HTTP on 127.0.0.1.

Start them by hand with `python -m tests.fakes.zalo` (see README, "Zalo").
"""

from tests.fakes.zalo.bot import BotCall, FakeZaloBot
from tests.fakes.zalo.oa import FakeZaloOA

__all__ = ["BotCall", "FakeZaloBot", "FakeZaloOA"]
