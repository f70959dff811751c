"""Telegram adapter (python-telegram-bot 22): application wiring, update handling, Channel."""
