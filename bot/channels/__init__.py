"""Chat channels: one package per platform, each a thin adapter that declares what it can do."""
