"""What `parbot run` starts: the chat features, a channel (Telegram or console), background jobs.

Features are listed by module name; each module exposes `register(registry)` and may expose
`async def run(runtime)` for background work (schedulers, outbox delivery). Adding a feature is
one line in FEATURES.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from core.commands import Registry

FEATURES: tuple[str, ...] = (
    "bot.chat.features",  # chat: /start /help /nhiemvu /baocao /huy /moi, report_task, onboarding
    # "scheduler.chat",  # scheduling: /kybaocao /nhacnho /caidat, snooze (add when it exists)
    # "messages.reports_chat",  # reports: /tonghop
)


def feature_modules(features: tuple[str, ...] = FEATURES) -> list[ModuleType]:
    return [importlib.import_module(name) for name in features]


def build_registry(features: tuple[str, ...] = FEATURES) -> Registry:
    """A fresh registry with every feature registered, in FEATURES order."""
    registry = Registry()
    for module in feature_modules(features):
        module.register(registry)
    return registry
