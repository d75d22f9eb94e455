"""Storage machinery the domain services write through: plain inserts and idempotency keys."""
