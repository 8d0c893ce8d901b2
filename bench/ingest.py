#!/usr/bin/env python3
"""CUR ingest benchmark: `costwatch sync --data FILE --ledger DB` vs DuckDB and polars.

Side by side in one run, on the same synthetic CUR (../shared/bench/gen_cur.py), both
formats (CUR 2.0 Parquet, legacy CUR CSV.gz). costwatch runs end to end (read, aggregate to
daily facts, write the SQLite ledger); DuckDB and polars run the reference aggregation
(../shared/bench/bench.py: SUM(unblended) GROUP BY day, product, usage type, account). On
Parquet, DuckDB also computes the same daily facts costwatch does (FACTS_QUERY below).
Median of --runs runs, each in a fresh process; peak RSS of each process.

  python3 bench/ingest.py --rows 500000          # quick (about 2 minutes incl. generation)
  python3 bench/ingest.py --rows 5000000         # the reference file: 5.59 M line items

Creates target/bench-venv (duckdb, polars, pyarrow, numpy from PyPI) on first use and builds
the release binary unless --no-build or --binary.

What bounds the Parquet ratio: costwatch reading only the reference query's columns (plus
the line-item type), the others its facts need dropped by bench/reference_columns.patch:

  git apply bench/reference_columns.patch && cargo build --release \
    && cp target/release/costwatch /tmp/costwatch-reference-columns \
    && git apply -R bench/reference_columns.patch
  python3 bench/ingest.py --rows 5000000 --binary /tmp/costwatch-reference-columns --formats parquet
"""
import argparse
import glob
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "bench")
VENV = os.path.join(REPO, "target", "bench-venv")
PY = os.path.join(VENV, "bin", "python")
PACKAGES = ["duckdb", "polars", "pyarrow", "numpy"]


# DuckDB computing what costwatch computes from CUR 2.0 Parquet: the daily facts (grouped by
# day, billing period, account, product code, usage type, region and charge category; with
# unblended and amortized cost, usage amount and unit), where the reference query groups by
# four columns and sums one. It reads the 16 columns costwatch reads instead of 5.
FACTS_QUERY = """
SELECT CAST(line_item_usage_start_date AS DATE) AS day,
       strftime(bill_billing_period_start_date, '%Y-%m') AS period,
       line_item_usage_account_id, line_item_product_code, line_item_usage_type,
       product_region_code,
       CASE WHEN line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
              THEN 'usage'
            WHEN line_item_line_item_type IN ('SavingsPlanNegation', 'SavingsPlanRecurringFee',
                                              'SavingsPlanUpfrontFee') THEN 'savings-plan'
            WHEN line_item_line_item_type IN ('BundledDiscount', 'EdpDiscount', 'PrivateRateDiscount',
                                              'DistributorDiscount') THEN 'discount'
            WHEN line_item_line_item_type IN ('Fee', 'Tax', 'Credit', 'Refund', 'RIFee')
              THEN line_item_line_item_type
            ELSE 'other' END AS category,
       SUM(line_item_unblended_cost) AS unblended,
       SUM(CASE line_item_line_item_type
             WHEN 'SavingsPlanCoveredUsage' THEN savings_plan_savings_plan_effective_cost
             WHEN 'DiscountedUsage' THEN reservation_effective_cost
             WHEN 'SavingsPlanRecurringFee'
               THEN savings_plan_total_commitment_to_date - savings_plan_used_commitment
             WHEN 'RIFee' THEN COALESCE(reservation_unused_amortized_upfront_fee_for_billing_period, 0)
                               + COALESCE(reservation_unused_recurring_fee, 0)
             WHEN 'SavingsPlanNegation' THEN 0
             WHEN 'SavingsPlanUpfrontFee' THEN 0
             ELSE line_item_unblended_cost END) AS amortized,
       SUM(line_item_usage_amount) AS usage_amount,
       ANY_VALUE(pricing_unit) AS unit
FROM read_parquet('{path}') GROUP BY ALL
"""

FACTS_CHILD = r'''
import duckdb, json, resource, sys, time
query, path, threads, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute("SET TimeZone='UTC'")
con.execute("SET enable_progress_bar=false")
times = []
for _ in range(runs):
    t = time.perf_counter()
    res = con.sql(query.format(path=path)).arrow()
    if hasattr(res, "read_all"):
        res = res.read_all()
    times.append(time.perf_counter() - t)
print(json.dumps(dict(times=times, groups=res.num_rows,
                      unblended=sum(x or 0 for x in res.column("unblended").to_pylist()),
                      amortized=sum(x or 0 for x in res.column("amortized").to_pylist()),
                      rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
'''


def run_duckdb_facts(path, threads, runs):
    """DuckDB's time for costwatch's facts from a CUR 2.0 Parquet file: (median, result)."""
    out = subprocess.run([PY, "-c", FACTS_CHILD, FACTS_QUERY, path, str(threads), str(runs)],
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    return statistics.median(result["times"]), result


def ensure_venv():
    if not os.path.exists(PY):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    probe = subprocess.run([PY, "-c", "import duckdb, polars, pyarrow, numpy"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PACKAGES],
                       check=True)


def phase_seconds(log, message):
    """Seconds of a phase from costwatch's log line `INFO <message> ... seconds=S`."""
    found = re.search(rf"INFO {message}\b.*?seconds=([0-9.]+)", log)
    return float(found.group(1)) if found else float("nan")


def wait_idle(min_idle):
    """Waits, as bench.py does before each engine, until the machine is this idle."""
    if min_idle > 0:
        sys.path.insert(0, SHARED)
        import bench  # ../shared/bench/bench.py
        bench.wait_idle(min_idle)


def run_costwatch(binary, path, runs, min_idle):
    """End-to-end sync into a fresh ledger; (times, peak RSS MB, ledger totals, groups, phases).

    phases: per run, seconds reading and aggregating the file, and writing the ledger."""
    times, rss, phases = [], [], []
    total = groups = None
    for _ in range(runs):
        wait_idle(min_idle)
        with tempfile.TemporaryDirectory() as tmp:
            db = os.path.join(tmp, "bench.db")
            t = time.perf_counter()
            proc = subprocess.Popen([binary, "sync", "--data", path, "--ledger", db],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            times.append(time.perf_counter() - t)
            err = proc.stderr.read().decode()
            proc.stderr.close()
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"costwatch failed on {path}:\n{err}")
            rss.append(usage.ru_maxrss / 1024)
            phases.append((phase_seconds(err, "read"), phase_seconds(err, "written to the ledger")))
            con = sqlite3.connect(db)
            *total, groups = con.execute(
                "SELECT SUM(unblended_cost), SUM(amortized_cost), COUNT(*) FROM daily_costs").fetchone()
            con.close()
    return times, max(rss), total, groups, phases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--data", help="generated data folder (default /tmp/costwatch-bench-ROWS)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--formats", nargs="+", default=["parquet", "csv"])
    ap.add_argument("--engines", nargs="+", default=["duckdb", "polars"])
    ap.add_argument("--min-idle", type=float, default=0.0,
                    help="wait for this system idle fraction before each costwatch run and each "
                         "engine's runs")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--binary", help="costwatch binary to run instead of target/release/costwatch "
                                     "(not built), e.g. one built with bench/reference_columns.patch")
    a = ap.parse_args()

    ensure_venv()
    data = a.data or f"/tmp/costwatch-bench-{a.rows}"
    if not os.path.exists(os.path.join(data, "ground_truth.json")):
        subprocess.run([PY, os.path.join(SHARED, "gen_cur.py"), "--rows", str(a.rows), "--out", data], check=True)
    truth = json.load(open(os.path.join(data, "ground_truth.json")))
    if not (a.no_build or a.binary):
        subprocess.run(["cargo", "build", "--release", "--bin", "costwatch"], cwd=REPO, check=True)
    binary = a.binary or os.path.join(REPO, "target", "release", "costwatch")

    files = {"parquet": sorted(glob.glob(f"{data}/cur2/**/*.parquet", recursive=True)),
             "csv": sorted(glob.glob(f"{data}/legacy/**/*.csv.gz", recursive=True))}
    rows = truth["rows"]
    print(f"{rows:,} line items, total unblended {truth['total_unblended']:.2f}; "
          f"{a.runs} runs each, median; {a.threads} threads for DuckDB/polars", flush=True)
    summary = []
    for fmt in a.formats:
        path = files[fmt][0]
        times, rss, (total, amortized), groups, phases = run_costwatch(binary, path, a.runs, a.min_idle)
        med = statistics.median(times)
        read_s = statistics.median(p[0] for p in phases)
        write_s = statistics.median(p[1] for p in phases)
        ok = abs(total - truth["total_unblended"]) < 1e-6 * max(1.0, abs(truth["total_unblended"])) + 0.01
        print(f"{fmt:8s} costwatch  median={med:6.2f}s  runs={[round(t, 2) for t in times]}  "
              f"{rows / med / 1e6:6.2f} M rows/s  facts={groups}  total={total:.2f} ({'ok' if ok else 'MISMATCH'}) "
              f"amortized={amortized:.2f}  "
              f"rss={rss:.0f}MB\n{'':8s}   of which read and aggregate {read_s:.2f}s, ledger write {write_s:.2f}s",
              flush=True)
        out = os.path.join(data, f"engines-{fmt}.json")
        subprocess.run([PY, os.path.join(SHARED, "bench.py"), "--data", data, "--threads", str(a.threads),
                        "--runs", str(a.runs), "--engines", *a.engines, "--formats", fmt, "--out", out,
                        "--min-idle", str(a.min_idle)], check=True)
        for r in json.load(open(out)):
            summary.append((fmt, r["engine"], r["median_s"] / med, r["peak_rss_mb"], med, rss))
        if fmt == "parquet" and "duckdb" in a.engines:
            wait_idle(a.min_idle)
            facts_s, r = run_duckdb_facts(path, a.threads, a.runs)
            print(f"{fmt:8s} duckdb, costwatch's facts  threads={a.threads}  median={facts_s:6.2f}s  "
                  f"runs={[round(t, 2) for t in r['times']]}  groups={r['groups']}  "
                  f"unblended={r['unblended']:.2f}  amortized={r['amortized']:.2f}  rss={r['rss']:.0f}MB",
                  flush=True)
            summary.append((fmt, "duckdb (same facts)", facts_s / med, round(r["rss"]), med, rss))
    print("\nthroughput ratio (engine time / costwatch time; > 1 means costwatch is faster):")
    for fmt, eng, ratio, eng_rss, med, rss in summary:
        print(f"  {fmt:8s} vs {eng:19s} {ratio:5.2f}x   costwatch {med:.2f}s {rss:.0f} MB peak RSS, "
              f"{eng} {eng_rss} MB")


if __name__ == "__main__":
    main()
