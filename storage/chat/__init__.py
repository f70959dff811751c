"""Storage of the chat: conversation state, invites, button tokens, evidence, report saving."""
