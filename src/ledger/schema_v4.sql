-- Daily facts split into their series and their daily amounts. A month of CUR has a few
-- thousand series (source × billing period × account × service × usage type × region ×
-- charge category × tags) and a few hundred thousand daily facts: each series' text is
-- stored once, and a daily fact is its day, its series id and three amounts, about a
-- quarter of the bytes a load writes (twice, to the WAL and then to the file) before.
-- `daily_costs` stays, as a view with the old table's columns.
CREATE TABLE cost_series (
    id              INTEGER PRIMARY KEY,
    source          TEXT NOT NULL,
    billing_period  TEXT NOT NULL,
    account         TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    usage_type      TEXT NOT NULL,
    region          TEXT NOT NULL,
    charge_category TEXT NOT NULL,
    tags            TEXT NOT NULL,
    -- Names as the series' latest load gave them.
    service_name    TEXT NOT NULL,
    usage_unit      TEXT NOT NULL,
    UNIQUE (source, billing_period, account, service_code, usage_type, region, charge_category, tags)
);
-- A series whose facts were all replaced stays, to be reused when its period is loaded again.
CREATE TABLE daily_amounts (
    day            TEXT NOT NULL,
    series         INTEGER NOT NULL,
    unblended_cost REAL NOT NULL,
    amortized_cost REAL NOT NULL,
    usage_amount   REAL NOT NULL,
    PRIMARY KEY (day, series)
) WITHOUT ROWID;

INSERT INTO cost_series (source, billing_period, account, service_code, usage_type, region,
        charge_category, tags, service_name, usage_unit)
    SELECT source, billing_period, account, service_code, usage_type, region, charge_category,
        tags, MAX(service_name), MAX(usage_unit)
    FROM daily_costs
    GROUP BY source, billing_period, account, service_code, usage_type, region, charge_category, tags;
INSERT INTO daily_amounts
    SELECT d.day, s.id, d.unblended_cost, d.amortized_cost, d.usage_amount
    FROM daily_costs d JOIN cost_series s
        USING (source, billing_period, account, service_code, usage_type, region, charge_category, tags);
DROP TABLE daily_costs;

CREATE VIEW daily_costs AS
    SELECT s.source, s.billing_period, d.day, s.account, s.service_code, s.service_name,
        s.usage_type, s.region, s.charge_category, d.unblended_cost, d.amortized_cost,
        d.usage_amount, s.usage_unit, s.tags
    FROM daily_amounts d JOIN cost_series s ON s.id = d.series;
