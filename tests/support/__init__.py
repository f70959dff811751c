"""Helpers shared by tests: fake channels, bots driven through the fake Bot API, plan files."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
