-- Alerts carry the root-cause detail and the action the rule asked for.
ALTER TABLE alerts ADD COLUMN detail TEXT NOT NULL DEFAULT '';
-- JSON of the action: {"kind":"notify"} or {"kind":"budget_alert","monthly_limit":120.0}.
ALTER TABLE alerts ADD COLUMN action TEXT NOT NULL DEFAULT '{"kind":"notify"}';
