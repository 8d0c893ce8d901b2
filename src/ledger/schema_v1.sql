-- Daily cost facts: one row per source, billing period, day, account, service, usage type,
-- region, charge category and configured tag values. A re-ingested billing period replaces its rows.
CREATE TABLE daily_costs (
    source          TEXT NOT NULL,
    billing_period  TEXT NOT NULL,
    day             TEXT NOT NULL,
    account         TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    service_name    TEXT NOT NULL,
    usage_type      TEXT NOT NULL,
    region          TEXT NOT NULL,
    charge_category TEXT NOT NULL,
    unblended_cost  REAL NOT NULL,
    amortized_cost  REAL NOT NULL,
    usage_amount    REAL NOT NULL,
    usage_unit      TEXT NOT NULL,
    -- Values of the configured tag keys, canonical `key=value` pairs joined by `;` (sorted by key).
    tags            TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (source, billing_period, day, account, service_code, usage_type, region, charge_category, tags)
) WITHOUT ROWID;
CREATE INDEX daily_costs_by_day ON daily_costs (day, charge_category);

-- Input files already ingested, so unchanged files are not read again.
CREATE TABLE ingested_files (
    path            TEXT PRIMARY KEY,
    size            INTEGER NOT NULL,
    modified_ns     INTEGER NOT NULL,
    billing_periods TEXT NOT NULL
);

-- Days fetched from API sources and when, so settled days are not fetched (and paid for) again.
CREATE TABLE fetched_days (
    source     TEXT NOT NULL,
    day        TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (source, day)
);

-- Which service a usage type belongs to (Cost Explorer groups by two dimensions at most, so
-- account × usage type and service × usage type are fetched apart and joined through this).
CREATE TABLE usage_type_services (
    usage_type   TEXT PRIMARY KEY,
    service_code TEXT NOT NULL,
    service_name TEXT NOT NULL
);

-- CUR report assemblies ingested from S3: a new assembly of a billing period replaces its facts.
CREATE TABLE cur_assemblies (
    report         TEXT NOT NULL,
    billing_period TEXT NOT NULL,
    assembly_id    TEXT NOT NULL,
    manifest_key   TEXT NOT NULL,
    etag           TEXT NOT NULL,
    ingested_at    TEXT NOT NULL,
    PRIMARY KEY (report, billing_period)
);

-- Cost forecasts (Cost Explorer GetCostForecast), one per run date and period.
CREATE TABLE forecasts (
    made_on      TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    metric       TEXT NOT NULL,
    mean         REAL NOT NULL,
    lower        REAL,
    upper        REAL,
    PRIMARY KEY (made_on, period_start, period_end, metric)
);

-- One row per daily run (also dry runs), with per-source outcomes.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    run_date    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,
    summary     TEXT
);
CREATE TABLE run_sources (
    run_id        INTEGER NOT NULL REFERENCES runs(id),
    source        TEXT NOT NULL,
    status        TEXT NOT NULL,
    detail        TEXT NOT NULL,
    api_calls     INTEGER NOT NULL,
    days_ingested INTEGER NOT NULL
);

-- Findings: at most one open finding per scope (account, service, usage type); updated, not repeated.
CREATE TABLE findings (
    id                INTEGER PRIMARY KEY,
    scope             TEXT NOT NULL,
    rule              TEXT NOT NULL,
    account           TEXT NOT NULL,
    service_code      TEXT NOT NULL,
    service_name      TEXT NOT NULL,
    usage_type        TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    first_day         TEXT NOT NULL,
    last_day          TEXT NOT NULL,
    resolved_day      TEXT,
    severity          TEXT NOT NULL,
    alerted_severity  TEXT NOT NULL,
    observed          REAL NOT NULL,
    expected          REAL NOT NULL,
    score             REAL NOT NULL,
    monthly_impact    REAL NOT NULL,
    message           TEXT NOT NULL
);
CREATE UNIQUE INDEX findings_one_open_per_scope ON findings (scope) WHERE status = 'open';

-- Alerts: the notifications a run decided to send (a new finding or an escalation).
CREATE TABLE alerts (
    id             INTEGER PRIMARY KEY,
    run_date       TEXT NOT NULL,
    finding_id     INTEGER NOT NULL REFERENCES findings(id),
    reason         TEXT NOT NULL,
    rule           TEXT NOT NULL,
    day            TEXT NOT NULL,
    account        TEXT NOT NULL,
    service_code   TEXT NOT NULL,
    service_name   TEXT NOT NULL,
    usage_type     TEXT NOT NULL,
    severity       TEXT NOT NULL,
    observed       REAL NOT NULL,
    expected       REAL NOT NULL,
    monthly_impact REAL NOT NULL,
    message        TEXT NOT NULL,
    outbox_id      INTEGER REFERENCES outbox(id)
);

-- Outbox: rendered digests waiting for (or done with) delivery; kept until delivered.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    run_date     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    message      BLOB NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    delivered_to TEXT
);
