"""Storage of the Zalo channels: tokens, quota, the messaging window, who to alert."""
