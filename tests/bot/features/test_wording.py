"""Chat wording of issue 9, item 10: the register of the rest, refusals that do not read like
warnings, a console guide that counts its roles and asks for no button presses."""

from __future__ import annotations

from core.flows.roleplay import ROLES
from messages.render import render


def test_an_unknown_message_is_in_the_register_of_the_rest():
    text = render("chat/idle_hint.j2", kind="text", role="focal")
    assert "Mình" not in text and "parbot" in text


def test_refusals_say_what_to_do_not_that_they_were_recorded():
    for text in (
        render("chat/refused_role.j2", command="moi"),
        render("chat/report_refused.j2", reason="not_focal"),
        render("chat/report_refused.j2", reason="not_assigned"),
        render("chat/refused_button.j2"),
    ):
        assert "ghi lại" not in text
        assert "/" in text  # names the command to use instead


def test_the_console_guide_counts_its_roles_and_asks_for_no_button_presses():
    text = render("chat/console_guide.j2", agencies=291, plan="PAR-2024", tasks=69, role=None)
    assert f"{len(ROLES)} vai trò" in text
    for number in range(1, len(ROLES) + 1):
        assert f"{number} (" in text
    assert "bấm" not in text.replace("không có nút bấm", "")
    for template in ("report_ask_files.j2", "report_ask_difficulties.j2"):
        asked = render(f"chat/{template}", files=[], types=["pdf"], max_mb=20)
        assert "bấm" not in asked
