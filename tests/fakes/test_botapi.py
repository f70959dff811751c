"""Tests of the fake Telegram Bot API, driven mostly through a real PTB 22 Application/Bot.

Why PTB and not raw HTTP only: the fake is worth something only if PTB parses every answer
and maps every error exactly as it would against Telegram.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.botapi import FakeBotApi, running_application

TOKEN = "123:ABC"


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi(token=TOKEN) as server:
        yield server
        assert server.server_errors == []


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with api.make_bot() as instance:
        yield instance


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def _retry_after(exc: RetryAfter) -> float:
    # PTB 22 warns on int access of retry_after (it is moving to timedelta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _seconds(exc.retry_after)


def _api_url(api: FakeBotApi, method: str, token: str = TOKEN) -> str:
    return f"{api.base_url}/bot{token}/{method}"


# ----------------------------------------------------------------------------- raw HTTP


def test_http_routes_tokens_and_body_formats(api: FakeBotApi) -> None:
    with httpx.Client() as client:
        me = client.get(_api_url(api, "getMe")).json()
        assert me["ok"] and me["result"]["username"] == "parbot_test_bot"
        assert me["result"]["id"] == 123

        wrong = client.post(_api_url(api, "getMe", token="999:NOPE"))
        assert wrong.status_code == 401
        assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

        unknown = client.post(_api_url(api, "noSuchMethod"))
        assert unknown.status_code == 404 and unknown.json()["error_code"] == 404

        upper = client.post(_api_url(api, "SENDMESSAGE"), json={"chat_id": 5, "text": "json"})
        assert upper.json()["result"]["chat"] == {
            "id": 5,
            "type": "private",
            "first_name": "User5",
            "username": "user5",
        }
        form = client.post(_api_url(api, "sendMessage"), data={"chat_id": "5", "text": "123"})
        assert form.json()["result"]["text"] == "123"  # text is never coerced to a number
        query = client.get(_api_url(api, "sendMessage"), params={"chat_id": 5, "text": "q"})
        assert query.json()["result"]["message_id"] == 3

    assert [c.status for c in api.calls] == [200, 401, 404, 200, 200, 200]
    assert [c.text for c in api.sent_messages(5)] == ["json", "123", "q"]
    assert api.last_message(5) is not None and api.last_message(5).params["chat_id"] == 5
    assert api.calls_to("sendmessage")[0].method == "sendMessage"


def test_long_poll_wakes_on_inject_and_offset_confirms(api: FakeBotApi) -> None:
    results: list[dict[str, Any]] = []

    def poll() -> None:
        with httpx.Client(timeout=10) as client:
            results.append(client.post(_api_url(api, "getUpdates"), json={"timeout": 5}).json())

    thread = threading.Thread(target=poll)
    started = time.monotonic()
    thread.start()
    time.sleep(0.2)
    update = api.user_text(7, "wake up")
    thread.join(timeout=5)
    assert time.monotonic() - started < 1.5
    assert results[0]["result"] == [update]

    with httpx.Client() as client:
        again = client.post(_api_url(api, "getUpdates"), json={"timeout": 0}).json()
        assert again["result"] == [update]  # unconfirmed updates are delivered again
        offset = update["update_id"] + 1
        empty = client.post(_api_url(api, "getUpdates"), json={"offset": offset}).json()
        assert empty["result"] == []
    assert api.pending_updates() == []


def test_get_updates_limit_negative_offset_and_allowed_updates(api: FakeBotApi) -> None:
    texts = [api.user_text(1, f"m{i}") for i in range(3)]
    sent = api.user_text(1, "keyboard")
    with httpx.Client() as client:
        pick = {"chat_id": 1, "text": "pick", "reply_markup": _keyboard("a")}
        bot_message = client.post(_api_url(api, "sendMessage"), json=pick).json()["result"]
        press = api.press_button(1, bot_message["message_id"], "a")
        assert press["callback_query"]["message"] == bot_message
        url = _api_url(api, "getUpdates")
        limited = client.post(url, json={"limit": 2}).json()["result"]
        assert [u["update_id"] for u in limited] == [u["update_id"] for u in texts[:2]]
        last_two = client.post(url, json={"offset": -2}).json()["result"]
        assert last_two == [sent, press]
        only_buttons = client.post(url, json={"allowed_updates": ["callback_query"]}).json()
        assert only_buttons["result"] == [press]
    assert api.pending_updates() == [press]


def test_stop_is_quick_with_open_keepalive_connections() -> None:
    api = FakeBotApi(token=TOKEN).start()
    client = httpx.Client()
    assert client.get(_api_url(api, "getMe")).status_code == 200
    outcome: list[object] = []

    def long_poll() -> None:
        try:
            outcome.append(httpx.post(_api_url(api, "getUpdates"), json={"timeout": 30}).json())
        except httpx.HTTPError as exc:
            outcome.append(exc)

    poller = threading.Thread(target=long_poll, daemon=True)
    poller.start()
    time.sleep(0.1)
    started = time.monotonic()
    api.stop()
    poller.join(timeout=2)
    assert time.monotonic() - started < 2
    assert (
        outcome
        and outcome[0] in ({"ok": True, "result": []},)
        or isinstance(outcome[0], httpx.HTTPError)
    )
    client.close()
    api.start()  # restartable on a new port
    assert httpx.get(_api_url(api, "getMe")).json()["ok"]
    api.stop()


# ----------------------------------------------------------------------------- PTB Application


def _keyboard(*data: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": d.upper(), "callback_data": d} for d in data]]}


async def test_echo_application_reply_is_recorded(api: FakeBotApi) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(f"echo: {update.message.text}")

    app = api.application_builder().build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with running_application(app):
        api.user_text(42, "hello", first_name="Lan", username="lan_qn")
        call = await api.await_message(42, contains="echo")

    assert call.text == "echo: hello"
    message = call.result
    assert message["from"]["username"] == "parbot_test_bot"
    assert message["chat"] == {
        "id": 42,
        "type": "private",
        "first_name": "Lan",
        "username": "lan_qn",
    }
    assert message["message_id"] == 2  # the user's message was 1 in this chat
    assert [c.method for c in api.calls[:2]] == ["getMe", "deleteWebhook"]
    assert api.chat_history(42)[0]["text"] == "hello"


async def test_commands_deep_link_and_group_mention(api: FakeBotApi) -> None:
    seen: list[tuple[int, list[str]]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        seen.append((update.effective_chat.id, list(context.args or [])))
        await update.effective_chat.send_message("welcome")

    app = api.application_builder().build()
    app.add_handler(CommandHandler("start", start))
    async with running_application(app):
        api.user_command(42, "start", args="CODE")
        await api.await_message(42)
        api.set_chat(-1001, type="supergroup", title="Sở Nội vụ")
        api.user_text(42, "/start@parbot_test_bot", chat_id=-1001)
        call = await api.await_message(-1001)

    assert seen == [(42, ["CODE"]), (-1001, [])]
    assert call.result["chat"]["title"] == "Sở Nội vụ"


async def test_callback_button_reaches_handler_and_edit_is_recorded(api: FakeBotApi) -> None:
    pressed: list[str] = []

    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = [[InlineKeyboardButton("Done", callback_data="done:7")]]
        await update.message.reply_text("Task 7?", reply_markup=InlineKeyboardMarkup(keyboard))

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        pressed.append(query.data)
        await query.answer("Saved")
        await query.edit_message_text("Task 7: done")

    app = api.application_builder().build()
    app.add_handler(CommandHandler("ask", ask))
    app.add_handler(CallbackQueryHandler(on_button))
    async with running_application(app):
        api.user_command(42, "ask")
        question = await api.await_message(42, contains="Task 7?")
        assert question.buttons == [{"text": "Done", "callback_data": "done:7"}]
        assert question.message_id is not None
        assert api.buttons(42, question.message_id)[0]["callback_data"] == "done:7"
        mark = api.mark()
        update = api.press_button(42, question.message_id, "done:7")
        edit = await api.await_for("editMessageText", since=mark)

    assert pressed == ["done:7"]
    assert update["callback_query"]["message"]["text"] == "Task 7?"
    assert api.calls_to("answerCallbackQuery")[0].params["text"] == "Saved"
    assert edit.message_id == question.message_id
    current = api.get_message(42, question.message_id)
    assert current is not None and current["text"] == "Task 7: done"
    assert "reply_markup" not in current  # editing text without markup drops the keyboard
    assert [c.method for c in api.sent_messages(42)] == ["sendMessage", "editMessageText"]


async def test_user_files_are_downloadable_by_the_bot(api: FakeBotApi) -> None:
    got: dict[str, bytes] = {}

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        file = await update.message.document.get_file()
        got[update.message.document.file_name or ""] = bytes(await file.download_as_bytearray())

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        file = await update.message.photo[-1].get_file()
        got["photo"] = bytes(await file.download_as_bytearray())

    async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.message is not None
        kind = "sticker" if update.message.sticker else "voice"
        await update.effective_chat.send_message(f"no {kind}s please")

    app = api.application_builder().build()
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    app.add_handler(MessageHandler(filters.Sticker.ALL | filters.VOICE, on_other))
    payload = "báo cáo quý 3".encode() * 100
    async with running_application(app):
        api.user_document(42, "báo cáo.xlsx", payload, "application/vnd.ms-excel")
        api.user_photo(42, b"\xff\xd8\xff fake jpeg")
        api.user_sticker(42)
        api.user_voice(43)
        await api.await_message(42, contains="stickers")
        await api.await_message(43, contains="voices")
        await api.await_for(
            lambda c: c.method == "downloadFile" and "photos/" in c.params["file_path"]
        )

    assert got == {"báo cáo.xlsx": payload, "photo": b"\xff\xd8\xff fake jpeg"}


async def test_bot_uploads_are_recorded_and_downloadable(api: FakeBotApi, bot: Bot) -> None:
    content = b"PK\x03\x04 docx bytes"
    message = await bot.send_document(
        42, document=content, filename="Báo cáo tháng.docx", caption="Monthly report"
    )
    assert message.document is not None
    assert message.document.file_name == "Báo cáo tháng.docx"
    assert message.caption == "Monthly report"
    (upload,) = api.uploaded_files()
    assert upload.content == content and upload.file_name == "Báo cáo tháng.docx"
    call = api.last_message(42)
    assert call is not None and call.files["document"] is upload and call.params["chat_id"] == 42

    file = await bot.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content

    again = await bot.send_document(42, document=message.document.file_id)  # resend by file_id
    assert again.document is not None
    assert again.document.file_unique_id == message.document.file_unique_id
    photo = await bot.send_photo(42, photo=b"\x89PNG fake")
    assert photo.photo[-1].file_size == len(b"\x89PNG fake")
    assert [c.method for c in api.sent_messages(42)] == ["sendDocument"] * 2 + ["sendPhoto"]


async def test_replayed_update_is_delivered_again(api: FakeBotApi) -> None:
    seen: list[int] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)
        assert update.effective_chat is not None
        await update.effective_chat.send_message(f"seen {len(seen)}")

    app = api.application_builder().build()
    app.add_handler(MessageHandler(filters.ALL, record))
    async with running_application(app):
        first = api.user_text(42, "pay 100")
        await api.await_message(42, contains="seen 1")
        api.user_text(42, "other")
        await api.await_message(42, contains="seen 2")
        api.inject(first)  # Telegram redelivering after a crash, say
        await api.await_message(42, contains="seen 3")
        api.user_text(42, "after")
        await api.await_message(42, contains="seen 4")

    assert seen[0] == seen[2] == first["update_id"]
    assert seen[3] > seen[1]


async def test_webhook_mode(api: FakeBotApi, bot: Bot) -> None:
    assert await bot.set_webhook("https://bot.example.org/hook", secret_token="s3cr3t")
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.org/hook"
    assert api.webhook["secret_token"] == "s3cr3t"
    with pytest.raises(Conflict):
        await bot.get_updates()
    update = api.make_text(42, "/start ABC")
    assert api.pending_updates() == []  # built, not queued: the test posts it to the bot
    assert Update.de_json(update, bot).message.text == "/start ABC"  # type: ignore[union-attr]
    assert api.make_update("command", 42, "help")["message"]["entities"][0]["length"] == 5
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_my_commands_round_trip(api: FakeBotApi, bot: Bot) -> None:
    commands = [BotCommand("start", "Start"), BotCommand("tasks", "My tasks")]
    assert await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == tuple(commands)
    assert await bot.get_my_commands(language_code="vi") == ()
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert await bot.delete_my_commands()
    assert api.commands() == []
    assert await bot.send_chat_action(42, "typing")
    assert await bot.close() and await bot.log_out()
    chat = await bot.get_chat(42)
    assert chat.type == "private"


# ----------------------------------------------------------------------------- faults


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fault_injection_maps_to_ptb_errors(api: FakeBotApi, bot: Bot) -> None:
    api.clear()  # drop the getMe of `async with bot`
    api.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(1, "x")
    assert _retry_after(retry.value) == 3

    api.fail_next("sendMessage", status=403)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(1, "x")
    api.fail_next("sendMessage", status=400)
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(1, "x")
    api.fail_next("sendMessage", status=400, migrate_to_chat_id=-1009)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-5, "x")
    assert migrated.value.new_chat_id == -1009
    api.fail_next("*", times=2, status=500)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(1, "x")
    api.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError):
        await bot.send_message(1, "x")
    api.fail_next("sendMessage", disconnect=True)
    with pytest.raises(NetworkError):
        await bot.send_message(1, "x")
    api.fail_next("sendMessage", chat_id=2, status=403)
    assert (await bot.send_message(1, "only chat 2 fails")).text == "only chat 2 fails"
    with pytest.raises(Forbidden):
        await bot.send_message(2, "x")

    assert (await bot.send_message(1, "fine again")).text == "fine again"
    assert [c.status for c in api.calls] == [429, 403, 400, 400, 500, 500, 502, 0, 200, 403, 200]
    assert api.count_429 == 1


async def test_delay_causes_timeout_but_message_is_still_sent(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", delay=0.3)
    with pytest.raises(TimedOut):
        await bot.send_message(1, "slow", read_timeout=0.05)
    call = await api.await_for("sendMessage")
    assert call.ok and call.text == "slow"  # like Telegram: delivered, the client gave up


async def test_per_chat_rules(api: FakeBotApi, bot: Bot) -> None:
    api.block_chat(10)
    api.block_chat(-20)
    api.migrate_chat(-30, -1000000000030)
    api.missing_chat(40)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(10, "x")
    with pytest.raises(Forbidden, match="kicked"):
        await bot.send_document(-20, document=b"x", filename="a.txt")
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-30, "x")
    assert migrated.value.new_chat_id == -1000000000030
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(40, "x")
    assert (await bot.send_message(-1000000000030, "moved")).chat.type == "supergroup"
    api.clear_faults()
    assert await bot.send_message(10, "unblocked")
    assert api.uploaded_files() == []  # failed sends do not count as delivered


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limit_enforcement() -> None:
    with FakeBotApi(
        token=TOKEN, enforce_limits=True, global_limit_per_second=5, group_chat_limit_per_minute=3
    ) as api:
        async with api.make_bot() as bot:
            await bot.send_message(1, "first")
            with pytest.raises(RetryAfter) as retry:
                await bot.send_message(1, "second within a second")
            assert _retry_after(retry.value) == 1
            for i in range(3):
                await bot.send_message(-100, f"group {i}")
            with pytest.raises(RetryAfter) as group_retry:
                await bot.send_message(-100, "fourth in a minute")
            assert 1 <= _retry_after(group_retry.value) <= 60
            with pytest.raises(RetryAfter):  # 4 sends so far; the global window allows 5
                await asyncio.gather(*(bot.send_message(200 + i, "x") for i in range(2)))
            assert await bot.send_chat_action(1, "typing")  # not a send: never limited
        assert api.count_429 == 3
        assert len(api.sent_messages()) == 5


async def test_formatting_and_content_checks(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match='(?i)unsupported start tag "br"'):
        await bot.send_message(1, "line<br>next", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)can't find end tag"):
        await bot.send_message(1, "<b>bold", parse_mode=ParseMode.HTML)
    html = await bot.send_message(1, "<b>Sở</b> &lt;ok&gt;", parse_mode=ParseMode.HTML)
    assert html.text == "<b>Sở</b> &lt;ok&gt;"  # the raw text is echoed, no entity parsing
    with pytest.raises(BadRequest, match="(?i)character '.' is reserved"):
        await bot.send_message(1, "*Done* 1.5", parse_mode=ParseMode.MARKDOWN_V2)
    assert await bot.send_message(1, r"*Done* 1\.5 `a.b`", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(1, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(
            1,
            "k",
            reply_markup=InlineKeyboardMarkup.from_button(
                InlineKeyboardButton("b", callback_data="x" * 65)
            ),
        )
    sent = await bot.send_message(1, "same")
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("same", chat_id=1, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("new", chat_id=1, message_id=999)
    markup = InlineKeyboardMarkup.from_button(InlineKeyboardButton("b", callback_data="b"))
    edited = await bot.edit_message_reply_markup(1, sent.message_id, reply_markup=markup)
    assert isinstance(edited, object) and api.buttons(1, sent.message_id)[0]["text"] == "b"
    assert await bot.delete_message(1, sent.message_id)
    assert api.get_message(1, sent.message_id) is None


async def test_waiting_helpers(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(RuntimeError, match="await_for"):
        api.wait_for("sendMessage", timeout=0.1)  # would block the loop the bot runs on
    with pytest.raises(TimeoutError, match="no matching call"):
        await api.await_for("sendMessage", timeout=0.05)
    waiter = asyncio.create_task(api.await_message(9, contains="later"))
    await asyncio.sleep(0.05)
    await bot.send_message(9, "later on")
    assert (await asyncio.wait_for(waiter, 2)).text == "later on"
    api.clear()
    assert api.calls == [] and api.count_429 == 0

    found: list[Any] = []
    thread = threading.Thread(target=lambda: found.append(api.wait_for("getMe", timeout=2)))
    thread.start()
    await bot.get_me()
    await asyncio.to_thread(thread.join, 3)
    assert found and found[0].method == "getMe"


async def test_throughput_handles_a_broadcast(api: FakeBotApi, bot: Bot) -> None:
    started = time.monotonic()
    semaphore = asyncio.Semaphore(30)

    async def send(chat_id: int) -> None:
        async with semaphore:
            await bot.send_message(chat_id, "broadcast")

    await asyncio.gather(*(send(1000 + i) for i in range(120)))
    elapsed = time.monotonic() - started
    assert len(api.sent_messages()) == 120
    assert elapsed < 5, f"120 sends took {elapsed:.2f}s"
    assert json.loads(json.dumps([c.result for c in api.sent_messages()[:2]]))


async def test_hand_made_group_update_can_be_replied_to(api: FakeBotApi) -> None:
    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("noted")  # quotes by default in groups

    app = api.application_builder().build()
    app.add_handler(MessageHandler(filters.TEXT, reply))
    raw = {
        "message": {
            "message_id": 77,
            "date": int(time.time()),
            "chat": {"id": -500, "type": "group", "title": "Ban chỉ đạo"},
            "from": {"id": 9, "is_bot": False, "first_name": "Hà"},
            "text": "report submitted",
        }
    }
    async with running_application(app):
        api.inject(raw)
        call = await api.await_message(-500)
    assert call.result["reply_to_message"]["message_id"] == 77
    assert call.result["message_id"] == 78
    assert raw["update_id"] > 999  # assigned by inject
