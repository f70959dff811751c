"""Chat features plugged into the registry (see docs/chat-extensions.md)."""
