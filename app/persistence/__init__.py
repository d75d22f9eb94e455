"""Storage machinery the domain services write through: plain inserts, idempotency keys, worker retries."""
