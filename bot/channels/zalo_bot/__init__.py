"""The Zalo Bot Platform channel (`zalo`): a thin client, the Channel, polling and webhook."""
