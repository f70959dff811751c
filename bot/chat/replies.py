"""Sending the replies to a user's own update, and keeping the ones the platform put off.

Replies go out straight from the worker that handled the update: the user is waiting, and a
queue in front would add a database round trip and a wake-up to every step. Telegram's
30-a-second limit is stated for bulk notifications (its Bots FAQ), which go through the outbox
under the channel's one send lease (scheduler/send_lease.py); replies follow the users' own
pace, one per update.

When the platform does refuse a reply for a moment — 429 «retry after», a 5xx, a refused
connection — the reply and the ones after it are not dropped: they go to the outbox under the
update's key, due when the pause ends, and the worker holding the channel's send lease sends
them in order. A user is not left without the question to answer next, and a replayed update
queues nothing twice. A reply that may have arrived (a timeout after the request left) is
never repeated; a permanent refusal (the user blocked the bot) is logged, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.chat.dispatcher import Dispatcher
from core.channel import Channel, DeliveryError, MaybeDelivered, RetryAfter, TransientError
from core.commands import Request
from core.outgoing import Outgoing

log = logging.getLogger(__name__)

#: Puts the replies not sent into the outbox, due after so many seconds.
PutOff = Callable[[list[Outgoing], float], Awaitable[None]]


def put_off_through(dispatcher: Dispatcher, request: Request) -> PutOff:
    """The `PutOff` of one update: its replies into the outbox through the dispatcher (inline
    on SQLite, where a commit takes microseconds; in a thread on a server database)."""
    inline = dispatcher.engine.dialect.name == "sqlite"

    async def put_off(messages: list[Outgoing], after: float) -> None:
        if inline:
            dispatcher.put_off_replies(request, messages, after)
        else:
            await asyncio.to_thread(dispatcher.put_off_replies, request, messages, after)

    return put_off


async def send_replies(
    channel: Channel, chat_id: str, messages: Sequence[Outgoing], put_off: PutOff | None
) -> bool:
    """Send `messages` in order; True when each was sent or put off to the outbox. Without
    `put_off` (a notice that answers no update) a refused reply is only logged."""
    delivered = True
    for index, outgoing in enumerate(messages):
        try:
            await channel.send(chat_id, outgoing)
        except (RetryAfter, TransientError) as exc:
            if isinstance(exc, MaybeDelivered) or put_off is None:
                log.warning("reply not sent chat=%s error=%s", chat_id, type(exc).__name__)
                delivered = False
                continue
            wait = exc.seconds if isinstance(exc, RetryAfter) else 1.0
            log.warning(
                "reply put off to the outbox chat=%s error=%s messages=%d",
                chat_id, type(exc).__name__, len(messages) - index,
            )  # fmt: skip
            await put_off(list(messages[index:]), wait)
            return delivered
        except DeliveryError as exc:
            log.warning("reply failed chat=%s error=%s", chat_id, type(exc).__name__)
            delivered = False
    return delivered
