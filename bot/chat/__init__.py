"""Channel-independent chat: the dispatcher and the chat feature (commands, flows)."""
