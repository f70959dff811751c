"""Robust input on Telegram: every odd thing a user sends gets a helpful answer, never a crash."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from sqlmodel import Session, select

from core.conversation import Limits
from core.model import UserRole
from storage.tables.chat import ChatFlow, PendingUpload
from storage.tables.shared import EvidenceFile, StatusReport, Task
from tests.bot.chat.test_security import link
from tests.support.chat import ChatBot, texts

USER = 4001


def flow_row(engine) -> ChatFlow | None:
    with Session(engine) as session:
        return session.exec(select(ChatFlow)).first()


def reports(engine) -> list[StatusReport]:
    with Session(engine) as session:
        return list(session.exec(select(StatusReport).order_by(StatusReport.id)))


async def skip_to_summary(bot: ChatBot, engine) -> None:
    while flow_row(engine).step != "summary":
        labels = [b["text"] for b in bot.last_with_buttons(USER).buttons]
        await bot.press(USER, "Bỏ qua" if "Bỏ qua" in labels else "Chưa có số liệu")


async def start_report(bot: ChatBot, ref: str = "III.4.1") -> None:
    await bot.command(USER, "baocao", expect="Chọn nhiệm vụ")
    await bot.text(USER, ref, expect="Tình trạng hiện nay")


async def test_odd_input_gets_a_reprompt_and_changes_nothing(engine, fake_api):
    api = fake_api
    link(engine, USER, "STP", UserRole.FOCAL)
    limits = Limits(max_text_chars=200, max_file_bytes=4096)
    async with ChatBot(api, engine, limits=limits) as bot:
        # unknown command, outside a flow
        sent = await bot.command(USER, "xyz", expect="Không có lệnh /xyz")
        # a task ref typed in NFD and lower case is understood
        nfd_ref = unicodedata.normalize("NFD", "iii.4.1")
        await bot.command(USER, "baocao", expect="Chọn nhiệm vụ")
        await bot.text(USER, nfd_ref, expect="Tình trạng hiện nay")
        # text that fits no button of a choice step
        sent = await bot.text(USER, "xong rồi", expect="Không có lựa chọn nào khớp")
        assert "Tình trạng hiện nay" in sent[-1].text and sent[-1].buttons
        # a sticker and a voice note where a choice/text is expected
        await bot.send(api.make_sticker(USER), expect="nhãn dán")
        await bot.send(api.make_voice(USER), expect="tin nhắn thoại")
        # a file where a status is expected
        await bot.send(
            api.make_document(USER, "a.pdf", b"%PDF", "application/pdf"),
            expect="Bước này chưa nhận tệp",
        )
        assert flow_row(engine).step == "status"
        # a typed number picks a button: 4 = "Gặp vướng mắc"
        await bot.text(USER, "4", expect="Tình trạng: Gặp vướng mắc")
        # too long, then NFD with emoji
        sent = await bot.text(USER, "x" * 201, expect="Nội dung quá dài: 201 ký tự, tối đa 200")
        assert flow_row(engine).step == "result"
        nfd = unicodedata.normalize("NFD", "Đã tổ chức tập huấn 👍 cho cán bộ một cửa")
        await bot.text(USER, nfd, expect="trên 95%")
        # a percentage out of range, then words, then a valid one
        await bot.text(USER, "150", expect="từ 0 đến 100")
        await bot.text(USER, "khoảng chín mươi", expect="Số liệu chưa hợp lệ")
        await bot.text(USER, "97 %", expect="Khó khăn")
        await bot.text(USER, "Thiếu máy scan", expect="Tài liệu kiểm chứng")
        # text where a file is expected, a wrong type, a file over the limit
        await bot.text(USER, "đây là tệp", expect="hãy gửi tệp hoặc ảnh")
        await bot.send(
            api.make_document(USER, "virus.exe", b"MZ", "application/octet-stream"),
            expect="không thuộc loại được nhận",
        )
        sent = await bot.send(
            api.make_document(USER, "lon.pdf", b"%PDF" + b"0" * 5000, "application/pdf"),
            expect="quá lớn",
        )
        assert "quá lớn (5 KB); mỗi tệp tối đa 4 KB" in texts(sent)
        with Session(engine) as session:
            assert session.exec(select(PendingUpload)).all() == []
        # a photo is good evidence
        await bot.send(api.make_photo(USER, b"\xff\xd8\xff" + b"1" * 100), expect="Đã nhận “anh-")
        sent = await bot.press(USER, "Xong", expect="Xem lại báo cáo")
        await bot.press(USER, "Gửi", expect="Số biên nhận")

    [report] = reports(engine)
    assert report.status == "blocked" and report.figure == "97%"
    assert report.result == unicodedata.normalize("NFC", nfd)  # stored NFC
    assert "👍" in report.result and report.difficulties == "Thiếu máy scan"
    with Session(engine) as session:
        [evidence] = session.exec(select(EvidenceFile)).all()
    assert evidence.mime_type == "image/jpeg" and evidence.content.startswith(b"\xff\xd8\xff")


async def test_edit_from_summary_revisions_and_stale_buttons(any_engine, fake_api):
    api, engine = fake_api, any_engine
    link(engine, USER, "STP", UserRole.FOCAL)
    async with ChatBot(api, engine) as bot:
        # pick the task from the second page of buttons
        await bot.command(USER, "baocao", expect="Chọn nhiệm vụ")
        first_page = bot.last_with_buttons(USER)
        sent = await bot.press(USER, "Sau")
        assert sent[-1].method == "editMessageText"
        second = [b["text"] for b in sent[-1].buttons]
        assert second != [b["text"] for b in first_page.buttons]
        ref = second[0].split(" · ")[0]
        await bot.press(USER, second[0][:20], expect=f"Nhiệm vụ {ref}:")
        # the first page's buttons are stale now
        stale = first_page.buttons[0]["callback_data"]
        stale_press = api.make_button_press(USER, first_page.message_id, stale)
        await bot.send(stale_press)
        answer = api.calls_to("answerCallbackQuery")[-1]
        assert "không còn hiệu lực" in answer.params.get("text", "")
        assert flow_row(engine).step == "status"

        await bot.press(USER, "Hoàn thành", expect="mô tả ngắn")
        await bot.text(USER, "Bản đầu tiên")
        await skip_to_summary(bot, engine)
        await bot.press(USER, "Sửa", expect="sửa mục nào")
        await bot.press(USER, "Kết quả", expect="mô tả ngắn")
        sent = await bot.text(USER, "Bản đã sửa", expect="Xem lại báo cáo")
        assert "Kết quả: Bản đã sửa" in sent[-1].text
        await bot.press(USER, "Gửi", expect="phiên bản 1")

        # a revision of the same task: version 2, the first one kept
        await bot.command(USER, "baocao", ref, expect="Báo cáo gần nhất (lần 1)")
        await bot.press(USER, "Đang thực hiện")
        await bot.text(USER, "Bản cập nhật")
        await skip_to_summary(bot, engine)
        await bot.press(USER, "Gửi", expect="phiên bản 2")

        # /huy in the middle of a flow drops it and its pending files
        await start_report(bot)
        await bot.press(USER, "Đang thực hiện")
        await bot.text(USER, "x")
        await bot.text(USER, "90")
        await bot.press(USER, "Bỏ qua")
        await bot.send(api.make_document(USER, "b.pdf", b"%PDF-1", "application/pdf"))
        await bot.command(USER, "huy", expect="Đã huỷ")
        assert flow_row(engine) is None
        with Session(engine) as session:
            assert session.exec(select(PendingUpload)).all() == []
        await bot.command(USER, "huy", expect="không có thao tác nào")

    first, second_ = reports(engine)
    assert (first.version, first.is_latest, first.result) == (1, False, "Bản đã sửa")
    assert (second_.version, second_.is_latest, second_.status) == (2, True, "in_progress")
    assert first.task_id == second_.task_id and first.round_id == second_.round_id
    with Session(engine) as session:
        assert session.get(Task, first.task_id).ref == ref


async def test_idle_flow_expires_with_a_message(engine, fake_api):
    api = fake_api
    link(engine, USER, "STP", UserRole.FOCAL)
    async with ChatBot(api, engine, limits=Limits(idle_hours=24)) as bot:
        await start_report(bot)
        await bot.press(USER, "Đang thực hiện")
        bot.clock.advance(timedelta(hours=23))
        await bot.text(USER, "vẫn trong hạn", expect="trên 95%")  # 23 h: still alive
        bot.clock.advance(timedelta(hours=24, minutes=1))
        sent = await bot.text(USER, "96", expect="hết hạn")
        assert "24 giờ" in texts(sent) and "/baocao" in texts(sent)
        assert flow_row(engine) is None
        await start_report(bot)  # a new flow starts normally afterwards
    assert reports(engine) == []


async def test_command_menu_failure_does_not_stop_the_bot(engine, fake_api):
    api = fake_api
    api.fail_next("setMyCommands", times=5, status=500)
    link(engine, USER, "STP", UserRole.FOCAL)
    async with ChatBot(api, engine) as bot:
        sent = await bot.command(USER, "help", expect="/baocao")
    assert any(not c.ok for c in api.calls_to("setMyCommands"))
    assert "/nhiemvu" in texts(sent)
