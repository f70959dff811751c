import logging

from bot.app import RedactingFormatter
from bot.settings import Settings


def test_blank_token_means_console(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    assert Settings().telegram_bot_token is None


def test_token_is_never_printed(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-TOKEN")
    settings = Settings()
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "123456:SECRET-TOKEN"
    assert "SECRET-TOKEN" not in repr(settings) and "SECRET-TOKEN" not in str(settings)


def test_redacting_formatter_removes_token_from_urls_and_tracebacks():
    formatter = RedactingFormatter(logging.Formatter("%(message)s"), ["123456:SECRET-TOKEN"])
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: POST %s "HTTP/1.1 200 OK"',
        ("https://api.telegram.org/bot123456:SECRET-TOKEN/getMe",),
        None,
    )
    text = formatter.format(record)
    assert "SECRET-TOKEN" not in text and "/bot<redacted>/getMe" in text
    try:
        raise RuntimeError("token 123456:SECRET-TOKEN rejected")
    except RuntimeError:
        import sys

        failing = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    text = formatter.format(failing)
    assert "Traceback" in text and "SECRET-TOKEN" not in text


def test_env_file_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PARBOT_DATABASE_URL", raising=False)
    (tmp_path / ".env").write_text("PARBOT_DATABASE_URL=sqlite:///x.db\n", encoding="utf-8")
    assert Settings().database_url == "sqlite:///x.db"
