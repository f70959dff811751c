"""The Zalo Official Account channel (`zalo_oa`): OAuth tokens, sending, the webhook."""
