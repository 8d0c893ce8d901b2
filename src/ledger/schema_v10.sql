-- A digest claimed for delivery (by a Lambda invocation's request id) in the ledger stored
-- before sending: a concurrent invocation leaves it alone, so it is never sent twice.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_at TEXT;
