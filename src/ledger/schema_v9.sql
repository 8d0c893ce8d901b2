-- The outbox keeps the digest as data (JSON), rendered by each channel, with one delivery
-- state per channel: a channel that fails is retried later without sending again through
-- those that succeeded. A digest is routed (one per route's recipients).
ALTER TABLE outbox ADD COLUMN digest TEXT;
ALTER TABLE outbox ADD COLUMN route TEXT NOT NULL DEFAULT '';
CREATE TABLE deliveries (
    outbox_id    INTEGER NOT NULL REFERENCES outbox(id),
    channel      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dropped')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    delivered_to TEXT,
    PRIMARY KEY (outbox_id, channel)
) WITHOUT ROWID;

-- Lifecycle control: a finding acknowledged (until a day, with a note), and scopes snoozed
-- (`costwatch snooze`); silenced findings are kept and reported, not sent.
ALTER TABLE findings ADD COLUMN acked_until TEXT;
ALTER TABLE findings ADD COLUMN ack_note TEXT;
CREATE TABLE snoozes (
    id           INTEGER PRIMARY KEY,
    account      TEXT NOT NULL,
    service_code TEXT NOT NULL,
    usage_type   TEXT NOT NULL,
    until        TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
);
