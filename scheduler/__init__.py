"""Time: working-day calendar, reminder runs, digests and outbox delivery."""
