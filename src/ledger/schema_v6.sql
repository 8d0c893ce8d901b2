-- The first day each account has usage facts in each source: days before it are unknown,
-- not days without spend, so rules do not read an account's first days as new spend.
-- Kept at write time (the earliest day ever written; a load never moves it later).
CREATE TABLE usage_starts (
    source    TEXT NOT NULL,
    account   TEXT NOT NULL,
    first_day TEXT NOT NULL,
    PRIMARY KEY (source, account)
) WITHOUT ROWID;
INSERT INTO usage_starts
    SELECT s.source, s.account, MIN(d.day)
    FROM daily_amounts d JOIN cost_series s ON s.id = d.series
    WHERE s.charge_category = 'usage'
    GROUP BY s.source, s.account;
