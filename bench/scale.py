#!/usr/bin/env python3
"""Scale benchmark of the daily run: `costwatch run` and `backtest` on N usage series, side
by side with DuckDB flagging days above 3x their series' 28-day median on the same files.

For each size it generates (seeded, with DuckDB) daily CUR 2.0-style Parquet files, one per
billing month: one usage line per series per day, weekday seasonality on a third of the
series, multiplicative noise, a month-start fee and tax per account, and spikes planted on a
few series on the last day (and, for the backtest, every few days of the replayed year).
Then, each in a fresh process:

  duckdb     the median-baseline query over the same files (a far simpler job)
  run        `costwatch run --data DIR --date D` on a fresh ledger (ingest included)
  steady     the next day: the current month's file re-delivered with one more day, run on
             the ledger the first run left (the daily case)
  backtest   `costwatch backtest` replaying --backtest-days run dates (sizes up to
             --backtest-max-series only; the data then spans the history too)

It prints the times, the ratios (run / DuckDB, growth between sizes), peak RSS and whether
the planted spikes alerted. Not a timed test: compare the ratios, the machine is shared.

  python3 bench/scale.py                                 # 1k, 10k, 50k x 120 days; 100k x 90
  python3 bench/scale.py --series 10000 --runs 1         # one size
  python3 bench/scale.py --series 10000 --backtest-days 365 --backtest-max-series 10000

Creates target/bench-venv (duckdb) on first use and builds the release binary unless
--no-build or --binary. Data goes to /tmp/costwatch-scale-* (kept between runs).
"""
import argparse
import datetime as dt
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(REPO, "target", "bench-venv")
PY = os.path.join(VENV, "bin", "python")
ACCOUNTS = 50
SERVICES = [("AmazonEC2", "Amazon Elastic Compute Cloud", "Hrs"),
            ("AmazonS3", "Amazon Simple Storage Service", "GB-Mo"),
            ("AmazonRDS", "Amazon Relational Database Service", "Hrs"),
            ("AWSLambda", "AWS Lambda", "Lambda-GB-Second"),
            ("AmazonCloudWatch", "Amazon CloudWatch", "Metrics"),
            ("AmazonDynamoDB", "Amazon DynamoDB", "ReadRequestUnits"),
            ("AWSDataTransfer", "AWS Data Transfer", "GB"),
            ("AmazonECS", "Amazon Elastic Container Service", "vCPU-Hours")]
SPIKE = 6.0
# The bench's end day: the run evaluates it, the steady-state run the day after.
END = dt.date(2026, 6, 28)

# One billing month of the generated CUR. The amounts are functions of hash(series, day), so
# a month re-generated with one more day is the same data plus that day.
GENERATE = """
COPY (
  WITH series AS (
    SELECT i,
      lpad(CAST(100000000000 + i % {accounts} AS VARCHAR), 12, '0') AS account,
      i % {services} AS svc,
      ['', 'USE2-', 'USW2-', 'EU-'][1 + (i // {services}) % 4] || 'Usage-' || CAST(i AS VARCHAR) AS usage_type,
      ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1'][1 + (i // {services}) % 4] AS region,
      -- $0.2 to $200 a day, log-uniform (as base_of below)
      exp(ln(0.2) + ln(1000) * ((i * 2654435761) % 10000) / 10000.0) AS base,
      hash(i, 'weekly') % 3 = 0 AS weekly
    FROM range({n}) t(i)),
  days AS (SELECT CAST(d AS DATE) AS day FROM range(DATE '{first}', DATE '{last}' + 1, INTERVAL 1 DAY) t(d)),
  planted AS (SELECT * FROM (VALUES {planted}) p(pi, pday)),
  usage AS (
    SELECT s.account, s.svc, s.usage_type, s.region, d.day,
      s.base
        * (CASE WHEN s.weekly AND dayofweek(d.day) IN (0, 6) THEN 0.6 ELSE 1.0 END)
        * (0.85 + 0.3 * (hash(s.i, d.day) % 10000) / 10000.0)
        * (CASE WHEN p.pi IS NULL THEN 1.0 ELSE {spike} END) AS cost
    FROM series s CROSS JOIN days d
    LEFT JOIN planted p ON p.pi = s.i AND p.pday = d.day),
  fees AS (
    SELECT lpad(CAST(100000000000 + a AS VARCHAR), 12, '0') AS account, DATE '{first}' AS day,
      t.kind, 50.0 + a AS cost
    FROM range({accounts}) r(a) CROSS JOIN (VALUES ('Fee'), ('Tax')) t(kind)
    WHERE day(DATE '{first}') = 1)
  SELECT CAST(day AS TIMESTAMP) AS line_item_usage_start_date,
    DATE '{period}' AS bill_billing_period_start_date,
    account AS line_item_usage_account_id, 'Usage' AS line_item_line_item_type,
    {codes}[1 + svc] AS line_item_product_code, {names}[1 + svc] AS product_product_name,
    usage_type AS line_item_usage_type, region AS product_region_code,
    cost AS line_item_unblended_cost, cost / 0.1 AS line_item_usage_amount,
    {units}[1 + svc] AS pricing_unit
  FROM usage
  UNION ALL
  SELECT CAST(day AS TIMESTAMP), DATE '{period}', account, kind, 'AWSSupportBusiness',
    'AWS Support (Business)', 'Dollar', '', cost, 0, ''
  FROM fees
) TO '{path}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1000000)
"""

# What the issue compares with: days above 3x the median of their series' previous 28 days.
BASELINE = """
WITH daily AS (
  SELECT line_item_usage_account_id AS account, line_item_product_code AS product,
    line_item_usage_type AS usage_type, CAST(line_item_usage_start_date AS DATE) AS day,
    SUM(line_item_unblended_cost) AS cost
  FROM read_parquet('{glob}') WHERE line_item_line_item_type = 'Usage' GROUP BY ALL),
flagged AS (
  SELECT *, median(cost) OVER (PARTITION BY account, product, usage_type ORDER BY day
    ROWS BETWEEN 28 PRECEDING AND 1 PRECEDING) AS baseline FROM daily)
SELECT account, product, usage_type, day FROM flagged WHERE cost > 3 * baseline
"""

DUCKDB_CHILD = r'''
import duckdb, json, resource, sys, time
con = duckdb.connect()
con.execute("SET threads=2"); con.execute("SET TimeZone='UTC'")
con.execute("SET enable_progress_bar=false")
t = time.perf_counter()
rows = con.sql(sys.argv[1]).fetchall()
print(json.dumps(dict(seconds=time.perf_counter() - t, flagged=[[str(c) for c in r] for r in rows],
                      rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
'''


def ensure_venv():
    if not os.path.exists(PY):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    if subprocess.run([PY, "-c", "import duckdb"], capture_output=True).returncode != 0:
        subprocess.run([PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "duckdb"],
                       check=True)


def duckdb(sql):
    out = subprocess.run([PY, "-c", DUCKDB_CHILD, sql], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def month_starts(first, last):
    m = first.replace(day=1)
    while m <= last:
        yield m
        m = (m + dt.timedelta(days=32)).replace(day=1)


def base_of(i):
    """Series i's usual daily cost, as GENERATE computes it."""
    return math.exp(math.log(0.2) + math.log(1000) * ((i * 2654435761) % 10000) / 10000.0)


def worth_alerting(n, count, start=7):
    """`count` series spread over [start, n) whose spike is worth an alert ($20+ a day)."""
    picked, i, step = [], start, max(1, n // (count + 1))
    while len(picked) < count and i < n:
        if base_of(i) >= 20:
            picked.append(i)
            i += step
        else:
            i += 1
    return picked


def planted_key(n, i):
    code = SERVICES[i % len(SERVICES)][0]
    region = ["", "USE2-", "USW2-", "EU-"][(i // len(SERVICES)) % 4]
    return (f"{100000000000 + i % ACCOUNTS:012d}", code, f"{region}Usage-{i}")


def generate(folder, n, first, last, planted):
    """Writes one Parquet file per billing month of [first, last] into `folder`."""
    os.makedirs(folder, exist_ok=True)
    values = ", ".join(f"({i}, DATE '{d}')" for i, d in planted) or "(-1, DATE '1970-01-01')"
    quote = lambda xs: "[" + ", ".join(f"'{x}'" for x in xs) + "]"
    for period in month_starts(first, last):
        nxt = (period + dt.timedelta(days=32)).replace(day=1)
        sql = GENERATE.format(
            accounts=ACCOUNTS, services=len(SERVICES), n=n, spike=SPIKE, planted=values,
            first=max(first, period), last=min(last, nxt - dt.timedelta(days=1)), period=period,
            codes=quote(s[0] for s in SERVICES), names=quote(s[1] for s in SERVICES),
            units=quote(s[2] for s in SERVICES),
            path=os.path.join(folder, f"cur-{period:%Y-%m}.parquet"))
        subprocess.run([PY, "-c", "import duckdb, sys; duckdb.sql(sys.argv[1])", sql], check=True)


def dataset(n, days, planted, end=END):
    folder = f"/tmp/costwatch-scale-v2-{n}x{days}-{end}"
    stamp = os.path.join(folder, "planted.json")
    if not os.path.exists(stamp) or json.load(open(stamp)) != [[i, str(d)] for i, d in planted]:
        shutil.rmtree(folder, ignore_errors=True)
        generate(folder, n, end - dt.timedelta(days=days - 1), end, planted)
        json.dump([[i, str(d)] for i, d in planted], open(stamp, "w"))
    return folder


def timed(binary, args):
    """(seconds, peak RSS MB, stdout) of one costwatch process."""
    t = time.perf_counter()
    proc = subprocess.Popen([binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"costwatch {' '.join(args)} failed ({code}):\n{err.decode()}")
    return seconds, usage.ru_maxrss / 1024, out.decode()


def found(alerts, planted):
    """How many planted (series, day) spikes an alert names within two days."""
    hits = 0
    for i, day in planted:
        key = planted_key(None, i)
        if any((a["account"], a["service"], a["usage_type"]) == key
               and 0 <= (dt.date.fromisoformat(a["data_day"]) - day).days <= 2 for a in alerts):
            hits += 1
    return hits


def bench_size(binary, n, days, runs, backtest_days, backtest_max):
    planted = [(i, END) for i in worth_alerting(n, 5)]
    data = dataset(n, days, planted)
    glob = os.path.join(data, "*.parquet")
    base = [duckdb(BASELINE.format(glob=glob)) for _ in range(runs)]
    duck_s = statistics.median(b["seconds"] for b in base)
    duck_hits = sum(any(r[:3] == list(planted_key(n, i)) and r[3] == str(d) for r in base[0]["flagged"])
                    for i, d in planted)
    row = dict(series=n, days=days, duckdb_s=duck_s, duckdb_rss=max(b["rss"] for b in base),
               duckdb_found=f"{duck_hits}/{len(planted)}", duckdb_flagged=len(base[0]["flagged"]))
    run_date = END + dt.timedelta(days=1)
    # The next day: this month's file re-delivered with one more day.
    nxt = dataset(n, days + 1, planted, END + dt.timedelta(days=1))
    current = f"cur-{END + dt.timedelta(days=1):%Y-%m}.parquet"
    first, steady, rss = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(runs):
            folder, ledger = os.path.join(tmp, f"data{r}"), os.path.join(tmp, f"ledger{r}.db")
            shutil.copytree(data, folder, ignore=shutil.ignore_patterns("*.json"))
            s, m, out = timed(binary, ["run", "--data", folder, "--ledger", ledger, "--date", str(run_date),
                                       "--format", "json"])
            first.append(s)
            rss.append(m)
            summary = json.loads(out)
            shutil.copy(os.path.join(nxt, current), os.path.join(folder, current))
            s, m, _ = timed(binary, ["run", "--data", folder, "--ledger", ledger,
                                     "--date", str(run_date + dt.timedelta(days=1)), "--format", "json"])
            steady.append(s)
    row.update(run_s=statistics.median(first), run_rss=max(rss), steady_s=statistics.median(steady),
               run_found=f"{found(summary['alerts'], planted)}/{len(planted)}",
               run_alerts=len(summary["alerts"]),
               rules_s={t["rule"]: round(t["seconds"], 3) for t in summary["rule_timings"]})
    if backtest_days and n <= backtest_max:
        spikes = min(40, backtest_days // 9 - 1)
        bt_planted = [(i, END - dt.timedelta(days=7 + 9 * k)) for k, i in enumerate(worth_alerting(n, spikes))]
        bt_data = dataset(n, backtest_days + 100, bt_planted)
        frm = END - dt.timedelta(days=backtest_days - 2)
        with tempfile.TemporaryDirectory() as tmp:
            ledger = os.path.join(tmp, "bt.db")
            timed(binary, ["sync", "--data", bt_data, "--ledger", ledger])
            s, m, out = timed(binary, ["backtest", "--data", bt_data, "--ledger", ledger, "--from", str(frm),
                                       "--to", str(END + dt.timedelta(days=1)), "--format", "json"])
        alerts = json.loads(out)
        row.update(backtest_days=backtest_days, backtest_s=s, backtest_rss=m,
                   backtest_found=f"{found(alerts, bt_planted)}/{len(bt_planted)}",
                   backtest_alerts=len(alerts))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, nargs="+", default=[1000, 10000, 50000, 100000])
    ap.add_argument("--days", type=int, default=120, help="days of data for the run (100k+ series: 90)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each measurement (median)")
    ap.add_argument("--backtest-days", type=int, default=365)
    ap.add_argument("--backtest-max-series", type=int, default=10000)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--binary", help="costwatch binary to run instead of target/release/costwatch")
    a = ap.parse_args()
    ensure_venv()
    if not (a.no_build or a.binary):
        subprocess.run(["cargo", "build", "--release", "--bin", "costwatch"], cwd=REPO, check=True)
    binary = a.binary or os.path.join(REPO, "target", "release", "costwatch")
    rows = []
    for n in a.series:
        days = a.days if n < 100000 else min(a.days, 90)
        row = bench_size(binary, n, days, a.runs, a.backtest_days, a.backtest_max_series)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{'series':>8} {'days':>5} {'duckdb':>8} {'run':>8} {'run/duckdb':>10} {'steady':>8} "
          f"{'RSS MB':>7} {'planted':>8} {'backtest':>14} {'bt RSS':>7} {'bt planted':>10}")
    for r in rows:
        bt = f"{r['backtest_s']:.1f}s/{r['backtest_days']}d" if "backtest_s" in r else "-"
        print(f"{r['series']:>8} {r['days']:>5} {r['duckdb_s']:>7.2f}s {r['run_s']:>7.2f}s "
              f"{r['run_s'] / r['duckdb_s']:>9.2f}x {r['steady_s']:>7.2f}s {r['run_rss']:>7.0f} "
              f"{r['run_found']:>8} {bt:>14} {r.get('backtest_rss', 0):>7.0f} {r.get('backtest_found', '-'):>10}")
    same_days = [r for r in rows if r["days"] == a.days]
    for small, large in zip(same_days, same_days[1:]):
        print(f"growth {small['series']} -> {large['series']} series ({large['series'] / small['series']:.0f}x): "
              f"run {large['run_s'] / small['run_s']:.2f}x the time")


if __name__ == "__main__":
    main()
