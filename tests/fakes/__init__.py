"""In-process fake platform servers over HTTP on 127.0.0.1 (Telegram Bot API, Zalo)."""
