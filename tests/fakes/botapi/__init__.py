"""Fake Telegram Bot API server for tests and benchmarks (see README.md)."""

from .server import (
    MESSAGE_METHODS,
    SEND_METHODS,
    ApiError,
    Call,
    FakeBotApi,
    Fault,
    StoredFile,
    iter_chats,
    running_application,
)

__all__ = [
    "MESSAGE_METHODS",
    "SEND_METHODS",
    "ApiError",
    "Call",
    "FakeBotApi",
    "Fault",
    "StoredFile",
    "iter_chats",
    "running_application",
]
