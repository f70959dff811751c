"""python-telegram-bot wiring: updates → `Request`, the dispatcher's `Response` → Bot API calls.

The adapter only translates. Everything that decides (roles, flows, idempotency) happens in the
dispatcher, in a worker thread so the event loop keeps polling and sending while the database
works. Updates of one chat are processed in order; different chats run concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

from sqlalchemy.engine import Engine
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    CallbackQuery,
    Message,
    Update,
)
from telegram import error as tg
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor, TypeHandler, Updater

from bot.channels.telegram.aiohttp_request import AiohttpRequest
from bot.channels.telegram.channel import TelegramChannel, map_error
from bot.channels.telegram.render import fit
from bot.chat.dispatcher import Dispatcher, Response
from bot.chat.replies import put_off_through, send_replies
from core.channel import DeliveryError
from core.commands import InputKind, Registry, Request
from core.conversation import IncomingFile
from core.model import UserRole
from core.outgoing import Outgoing
from core.text import nfc
from storage.chat.evidence import evidence_loader
from storage.chat.state import linked_contacts

log = logging.getLogger("parbot.telegram")
CHANNEL = "telegram"
# Connections to the Bot API, and updates in flight. Telegram accepts ~30 messages/s overall,
# so a few parallel requests are plenty; more only queue (and cost CPU) without adding speed.
POOL = 8


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, strictly ordered within one chat (answers depend on order)."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _order_key(update)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _order_key(update: object) -> object:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
    return id(update)


class TelegramAdapter:
    def __init__(
        self,
        dispatcher: Dispatcher,
        registry: Registry,
        engine: Engine,
    ) -> None:
        self.dispatcher = dispatcher
        self.registry = registry
        self.engine = engine
        self.limits = dispatcher.limits
        self._menu_task: asyncio.Task[None] | None = None
        # An update costs ~1 ms of SQLite work: cheaper on the event loop than a hop to a worker
        # thread (GIL hand-offs). A database across the network is waited for in a thread.
        self.inline = engine.dialect.name == "sqlite"
        self.requests: tuple[AiohttpRequest, ...] = ()
        self.username: str | None = None  # TELEGRAM_BOT_USERNAME; otherwise getMe's answer

    # -- start-up
    async def setup(self, app: Application, menus: bool = True) -> None:
        """Make the channel known to the dispatcher (its invite links need the username getMe
        gave) and publish command menus (`menus=False`: the leader worker does).

        A failing setMyCommands is logged and ignored: menus are a convenience, the bot must
        run without them.
        """
        self.dispatcher.attach(self.channel(app))
        await asyncio.to_thread(self.dispatcher.warm_up)
        if menus:
            await self.publish_menus(app)

    async def publish_menus(self, app: Application) -> None:
        """The default command menu now, each linked chat's own in the background."""
        await self.set_menu(app, None, None)
        if self._menu_task is None or self._menu_task.done():
            self._menu_task = asyncio.create_task(self._refresh_menus(app))

    async def close_requests(self) -> None:
        """After a failed start (bad token, no network) PTB leaves its HTTP sessions open."""
        for request in self.requests:
            await request.shutdown()

    async def teardown(self) -> None:
        if self._menu_task is not None and not self._menu_task.done():
            self._menu_task.cancel()
            with suppress(asyncio.CancelledError, Exception):  # shutting down anyway
                await self._menu_task

    def commands_for(self, role: UserRole | None) -> list[BotCommand]:
        return [BotCommand(c.name, c.description[:256]) for c in self.registry.menu(role, CHANNEL)]

    async def set_menu(self, app: Application, chat_id: str | None, role: UserRole | None) -> bool:
        scope = BotCommandScopeDefault() if chat_id is None else BotCommandScopeChat(chat_id)
        try:
            await app.bot.set_my_commands(self.commands_for(role), scope=scope)
        except tg.TelegramError as exc:
            log.warning("setMyCommands failed scope=%s error=%s", scope.type, exc)
            return False
        return True

    async def _refresh_menus(self, app: Application) -> None:
        """Each linked chat gets its role's menu (new feature commands appear after a restart)."""
        contacts = await asyncio.to_thread(linked_contacts, self.engine, CHANNEL)
        for chat_id, role in contacts:
            await self.set_menu(app, chat_id, UserRole(role))
            await asyncio.sleep(0.05)  # stay far below the Bot API limits

    # -- updates
    async def on_update(self, update: object, context: Any) -> None:
        if not isinstance(update, Update):
            return
        request = await self.request_of(update)
        if request is None:
            return
        if self.inline:
            response = self.dispatcher.handle(request, run_deferred=False)
        else:
            response = await asyncio.to_thread(self.dispatcher.handle, request, False)
        if response.deferred:  # slow read-only work (a report) must not stall other chats
            await asyncio.to_thread(self.dispatcher.run_deferred, response)
        if response.duplicate:
            if update.callback_query is not None:
                await _quietly(update.callback_query.answer())
            return
        await self.reply(context.application, request, response, update.callback_query)

    async def request_of(self, update: Update) -> Request | None:
        user = update.effective_user
        if user is None or user.is_bot:
            return None
        name = " ".join(p for p in (user.first_name, user.last_name) if p) or user.username or ""
        query = update.callback_query
        if query is not None:
            chat = query.message.chat.id if query.message is not None else user.id
            return Request(
                CHANNEL,
                str(chat),
                str(user.id),
                InputKind.BUTTON,
                button=query.data or "",
                dedupe_key=str(update.update_id),
                display_name=name,
            )
        message = update.message
        if message is None:
            return None  # edits, channel posts, membership changes: nothing to answer
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "chat_id": str(message.chat.id),
            "user_id": str(user.id),
            "dedupe_key": str(update.update_id),
            "display_name": name,
        }
        if message.text is not None:
            text = nfc(message.text)
            if text.startswith("/") and _is_command(message):
                head, _, rest = text[1:].partition(" ")
                command = head.split("@", 1)[0].lower()
                return Request(kind=InputKind.COMMAND, command=command, text=rest.strip(), **base)
            return Request(kind=InputKind.TEXT, text=text, **base)
        if message.document is not None or message.photo:
            return Request(kind=InputKind.FILE, file=await self.fetch(message), **base)
        if message.sticker is not None:
            return Request(kind=InputKind.STICKER, **base)
        if message.voice is not None or message.audio is not None or message.video_note:
            return Request(kind=InputKind.VOICE, **base)
        return Request(kind=InputKind.OTHER, **base)

    async def fetch(self, message: Message) -> IncomingFile:
        """Download a document or the largest photo, unless it is over the size limit."""
        if message.document is not None:
            doc = message.document
            name = doc.file_name or f"tep-{doc.file_unique_id}"
            mime, size, file_id = doc.mime_type or "", doc.file_size or 0, doc.file_id
        else:
            photo = message.photo[-1]
            name, mime = f"anh-{photo.file_unique_id}.jpg", "image/jpeg"
            size, file_id = photo.file_size or 0, photo.file_id
        content: bytes | None = None
        failed = False
        if size <= self.limits.max_file_bytes:
            try:
                handle = await message.get_bot().get_file(file_id)
                content = bytes(await handle.download_as_bytearray())
                size = len(content)
            except tg.TelegramError as exc:
                failed = True  # told as a failed download, not as a file too large
                log.warning("file download failed error=%s", exc)
        return IncomingFile(nfc(name), mime, size, content, failed)

    # -- replies
    async def reply(
        self,
        app: Application,
        request: Request,
        response: Response,
        query: CallbackQuery | None,
    ) -> None:
        jobs: list[Awaitable[Any]] = []
        if query is not None:
            # The pressed choice shows as a toast: no extra edit call per step (latency).
            notice = response.acknowledge or response.chosen
            jobs.append(_quietly(query.answer(text=fit(notice, 190) if notice else None)))
            message = query.message if isinstance(query.message, Message) else None
            if message is not None and response.edit is not None:
                jobs.append(self._edit(app, message, response.edit))
            elif message is not None and response.close_pressed:
                jobs.append(_quietly(message.edit_reply_markup(reply_markup=None)))
        sending = send_replies(
            self.channel(app),
            request.chat_id,
            response.messages,
            put_off_through(self.dispatcher, request),
        )
        if response.role_changed is not None:
            jobs.append(self.set_menu(app, request.chat_id, response.role_changed))
        delivered, *_ = await asyncio.gather(sending, *jobs)
        if delivered and response.prompt is not None:
            if self.inline:
                self.dispatcher.prompt_sent(response)
            else:
                await asyncio.to_thread(self.dispatcher.prompt_sent, response)

    async def _edit(self, app: Application, message: Message, outgoing: Outgoing) -> None:
        channel = self.channel(app)
        try:
            await channel.edit(str(message.chat.id), str(message.message_id), outgoing)
        except DeliveryError as exc:
            log.warning("edit failed chat=%s error=%s", message.chat.id, exc)

    def channel(self, app: Application) -> TelegramChannel:
        channel = app.bot_data.get("channel")
        if channel is None:
            channel = app.bot_data["channel"] = TelegramChannel(
                app.bot, evidence_loader(self.engine), self.username
            )
        return channel

    async def on_error(self, update: object, context: Any) -> None:
        error = context.error
        if isinstance(error, tg.TelegramError):
            log.warning("telegram error: %s", map_error(error).__class__.__name__)
            return
        log.error("unhandled error in update handler", exc_info=error)


def _is_command(message: Message) -> bool:
    entities = message.entities or ()
    return any(e.type == "bot_command" and e.offset == 0 for e in entities) or not entities


async def _quietly(job: Awaitable[Any]) -> None:
    try:
        await job
    except tg.TelegramError as exc:
        log.debug("ignored error: %s", exc)


def build_application(
    token: str,
    api_url: str,
    dispatcher: Dispatcher,
    registry: Registry,
    engine: Engine,
    *,
    concurrency: int = POOL,
    configure: Callable[[ApplicationBuilder], ApplicationBuilder] | None = None,
    proxy: str | None = None,
) -> tuple[Application, TelegramAdapter]:
    """A PTB Application pointed at `api_url` (the Bot API server root), through `proxy`."""
    root = api_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .concurrent_updates(PerChatUpdateProcessor(concurrency))
    )
    requests = (
        AiohttpRequest(POOL, pool_timeout=30, proxy=proxy),
        AiohttpRequest(1, read_timeout=5.0, proxy=proxy),
    )
    builder = builder.request(requests[0]).get_updates_request(requests[1])
    if configure is not None:
        builder = configure(builder)
    app = builder.build()
    adapter = TelegramAdapter(dispatcher, registry, engine)
    adapter.requests = requests
    app.add_handler(TypeHandler(Update, adapter.on_update))
    app.add_error_handler(adapter.on_error)
    return app, adapter


async def _initialize(app: Application, adapter: TelegramAdapter) -> None:
    try:
        await app.initialize()
    except BaseException:
        await adapter.close_requests()
        raise


@asynccontextmanager
async def _serving(
    app: Application, adapter: TelegramAdapter, start: Callable[[Updater], Awaitable[object]]
) -> Any:
    """Initialise, start the updater with `start`, and always stop in the right order."""
    await _initialize(app, adapter)
    async with app:
        await adapter.setup(app)
        await app.start()
        assert app.updater is not None
        await start(app.updater)
        try:
            yield app
        finally:
            await adapter.teardown()
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()


def polling(app: Application, adapter: TelegramAdapter, poll_timeout: int = 10) -> Any:
    """Run the bot with long polling for the duration of the block; stop cleanly after."""
    return _serving(
        app, adapter, lambda updater: updater.start_polling(poll_interval=0, timeout=poll_timeout)
    )


