"""Storage of scheduling: calendar, rounds, obligations, digests and broadcasts."""
