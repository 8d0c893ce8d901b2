-- A root cause reads the facts of one scope (account, or account × service × usage type) of
-- the source the rules read: its series are found through this index, then their daily
-- amounts by key, so the cost of a root cause does not grow with the rest of the ledger.
CREATE INDEX cost_series_by_scope
    ON cost_series (source, charge_category, account, service_code, usage_type);
