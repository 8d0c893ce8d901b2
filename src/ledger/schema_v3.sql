-- Daily facts keyed day first. The rules read day ranges, and those (and the ledger's first
-- and last day) now come straight from the primary key; a load maintains one B-tree instead
-- of two (the (day, charge_category) index, which repeated the whole key, is gone).
CREATE TABLE daily_costs_v3 (
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
    tags            TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (day, charge_category, source, billing_period, account, service_code, usage_type, region, tags)
) WITHOUT ROWID;
INSERT INTO daily_costs_v3 SELECT * FROM daily_costs;
DROP TABLE daily_costs;
ALTER TABLE daily_costs_v3 RENAME TO daily_costs;

-- The days each source's billing period spans (a superset), so that replacing a period
-- deletes through the day-first key instead of scanning the table.
CREATE TABLE period_days (
    source         TEXT NOT NULL,
    billing_period TEXT NOT NULL,
    first_day      TEXT NOT NULL,
    last_day       TEXT NOT NULL,
    PRIMARY KEY (source, billing_period)
);
INSERT INTO period_days
    SELECT source, billing_period, MIN(day), MAX(day) FROM daily_costs GROUP BY source, billing_period;
