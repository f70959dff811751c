"""Knowing the moment a request's bytes have left, to keep the crash window to that moment.

A delivery is uncertain after a crash only if the row was claimed and the request may or may
not have been written. The worker lets one claim at a time into that stretch (claim → bytes
written) and opens the gate again as soon as the HTTP client reports the request body written
(httpcore's `trace` extension), so concurrent sends do not sit claimed-but-unsent behind each
other while the event loop is busy. A client without this transport simply holds the gate
until its send returns: slower, equally safe. The transport itself lives with the adapters
(bot/channels/written_signal.py): the scheduler imports no HTTP client.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar


class WrittenAt(asyncio.Event):
    """The event, and when it was set on the loop's clock: the moment the request left.

    The pacer counts a send from then (`scheduler.pacing.Pacer.written`); read after the
    waiting coroutine wakes, the clock would also count the event loop's own delay.
    """

    at: float | None = None
    #: When the answer's headers came back: the platform has counted the request by then. The
    #: pacer keeps the send in its window a second from this (scheduler/pacing.py); stamped
    #: when the send returns instead, the time to read and parse the answer on a busy event
    #: loop (~50 ms) would hold every slot that much longer: 94 % of 30/s instead of 96 %.
    answered_at: float | None = None

    def answered(self) -> None:
        if self.answered_at is None:
            self.answered_at = asyncio.get_running_loop().time()

    def set(self) -> None:
        if self.at is None:
            self.at = asyncio.get_running_loop().time()
        super().set()


#: Set by the worker around one send; fired by the transport when the request is written.
REQUEST_WRITTEN: ContextVar[WrittenAt | None] = ContextVar(
    "parbot_request_written", default=None
)
