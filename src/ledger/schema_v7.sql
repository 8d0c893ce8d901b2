-- Every AWS request a source made, throttled ones apart, and what they cost.
ALTER TABLE run_sources ADD COLUMN throttled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_sources ADD COLUMN cost REAL NOT NULL DEFAULT 0;
