"""Self-check of ext_ce_strict.py: starts moto_peer.py and drives the strict Cost Explorer
through boto3 (and raw HTTP where the wire format itself is checked).

Run: .venv/bin/python tests/emulator/check_ce_strict.py   (exit status 0 = all good)
"""

import datetime as dt
import json
import math
import time
import uuid
from decimal import Decimal

import botocore.exceptions

from check_emulator import clients, error_code, http, start, stopped

CTL = "/costwatch-emulator/ce-strict"
EC2, S3 = "Amazon Elastic Compute Cloud - Compute", "Amazon Simple Storage Service"
A, B = "111111111111", "222222222222"
FIRST, NEWEST, EMPTY = dt.date(2026, 1, 1), dt.date(2026, 1, 20), dt.date(2026, 1, 5)
PERIOD = {"Start": "2026-01-01", "End": "2026-01-21"}
METRICS = ["UnblendedCost", "AmortizedCost", "UsageQuantity"]
USAGE_ONLY = {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Usage"]}}
BY_ACCOUNT_USAGE_TYPE = [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
                         {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]


def row(day, account, service, usage_type, record_type, cost, usage, unit):
    return {"day": day.isoformat(), "LINKED_ACCOUNT": account, "SERVICE": service,
            "USAGE_TYPE": usage_type, "RECORD_TYPE": record_type, "REGION": "us-east-1",
            "UnblendedCost": cost, "AmortizedCost": round(cost * 0.9, 4), "UsageQuantity": usage,
            "unit": unit}


def dataset():
    """20 days, 2026-01-05 without any rows; 3 to 6 rows a day."""
    rows = []
    for n in range(20):
        day = FIRST + dt.timedelta(days=n)
        if day == EMPTY:
            continue
        for i, account in enumerate((A, B)):
            rows.append(row(day, account, EC2, "USE1-BoxUsage:t3.micro", "Usage",
                            round(1.25 + 0.1 * n + i, 4), 24.0, "Hrs"))
            rows.append(row(day, account, "Tax", "Tax", "Tax", round(0.11 * (i + 1), 4), 0.0, "N/A"))
        if n % 2:
            rows.append(row(day, A, S3, "USE1-TimedStorage-ByteHrs", "Usage", round(0.0333 * n, 4),
                            1.5, "GB-Mo"))
        if n == 9:
            rows.append(row(day, B, "Credit", "Credit", "Credit", -5.0, 0.0, "N/A"))
    return rows


def expected(rows, keep, keys, metric="UnblendedCost"):
    """{(day, group keys): sum of `metric`} computed here, independently of the emulator."""
    out = {}
    for r in rows:
        if keep(r):
            k = (r["day"], tuple(r[key] for key in keys))
            out[k] = out.get(k, Decimal(0)) + Decimal(str(r[metric]))
    return out


def groups_of(pages, metric="UnblendedCost"):
    """{(day, keys): Decimal amount} of every group on every page, checking none repeats."""
    out = {}
    for p in pages:
        for r in p["ResultsByTime"]:
            for g in r["Groups"]:
                k = (r["TimePeriod"]["Start"], tuple(g["Keys"]))
                assert k not in out, f"group {k} answered twice"
                out[k] = Decimal(g["Metrics"][metric]["Amount"])
    return out


def all_pages(ce, **kw):
    pages, token = [], None
    while True:
        p = ce.get_cost_and_usage(**kw, **({"NextPageToken": token} if token else {}))
        pages.append(p)
        token = p.get("NextPageToken")
        if not token:
            return pages


def seed(port, rows, **extra):
    status, _, body = http(port, CTL + "/dataset", {"rows": rows, **extra})
    assert status == 201, body
    return json.loads(body)


def calls(port):
    return json.loads(http(port, CTL + "/calls", method="GET")[2])


def raw_ce(port, op, body):
    """A CE call over raw HTTP; (status, headers, decoded body)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, h, out = http(port, "/", data, {"Content-Type": "application/x-amz-json-1.1",
                                            "X-Amz-Target": f"AWSInsightsIndexService.{op}"})
    return status, h, json.loads(out)


def check_unseeded(port, ce):
    """Strict mode is off: moto's queue and the built-in forecast answer, nothing is logged."""
    usage = {"ResultsByTime": [{"TimePeriod": PERIOD, "Total": {"UnblendedCost": {"Amount": "7", "Unit": "USD"}},
                                "Groups": [], "Estimated": False}], "DimensionValueAttributes": []}
    assert http(port, "/moto-api/static/ce/cost-and-usage-results", {"results": [usage]})[0] == 201
    got = ce.get_cost_and_usage(TimePeriod=PERIOD, Granularity="MONTHLY", Metrics=["Bogus"])
    assert got["ResultsByTime"][0]["Total"]["UnblendedCost"]["Amount"] == "7"
    fc = ce.get_cost_forecast(TimePeriod={"Start": "2020-01-01", "End": "2020-01-03"},
                              Metric="UNBLENDED_COST", Granularity="DAILY")
    assert fc["Total"]["Amount"] == "20.00", fc  # the built-in 10 USD/day default
    assert calls(port) == []


def check_validation(port, ce):
    def code(**kw):
        args = {"TimePeriod": PERIOD, "Granularity": "DAILY", "Metrics": METRICS, **kw}
        return error_code(lambda: ce.get_cost_and_usage(**args))

    v = "ValidationException"
    dim = lambda key: {"Type": "DIMENSION", "Key": key}
    assert code(GroupBy=[dim("SERVICE"), dim("USAGE_TYPE"), dim("LINKED_ACCOUNT")]) == v
    assert code(GroupBy=[dim("SERVICE"), dim("SERVICE")]) == v
    assert code(GroupBy=[{"Type": "SERVICE", "Key": "X"}]) == v
    assert code(GroupBy=[dim("RESOURCE_ID")]) == v
    assert code(Metrics=["UnblendedCost", "Cost"]) == v
    assert code(TimePeriod={"Start": "2026-01-01", "End": "2026-02-30"}) == v
    assert code(TimePeriod={"Start": "2026/01/01", "End": "2026-01-10"}) == v
    assert code(TimePeriod={"Start": "2026-01-10", "End": "2026-01-10"}) == v
    assert code(TimePeriod={"Start": "2026-01-10", "End": "2026-01-02"}) == v
    assert code(TimePeriod={"Start": "2026-01-10", "End": "2026-02-02"}) == v  # past next month
    assert code(TimePeriod={"Start": "2024-11-30", "End": "2026-01-02"}) == v  # > 14 months
    assert code(Granularity="WEEKLY") == v
    two_roots = {"Dimensions": USAGE_ONLY["Dimensions"], "Not": USAGE_ONLY}
    assert code(Filter=two_roots) == v
    assert code(Filter={"And": [USAGE_ONLY]}) == v
    assert code(Filter={"Dimensions": {"Key": "RESOURCE_ID", "Values": ["i-1"]}}) == v
    assert code(Filter={"Dimensions": {"Key": "SERVICE", "Values": ["A"], "MatchOptions": ["CONTAINS"]}}) == v
    assert code(Filter={"Or": [USAGE_ONLY, {"Tags": {"Key": "team", "Values": ["x"], "MatchOptions": ["FUZZY"]}}]}) == v
    assert code(Granularity="HOURLY") == v  # start more than 14 days back
    assert code(Granularity="HOURLY", TimePeriod={"Start": "2026-01-15", "End": "2026-01-16"}) == \
        "DataUnavailableException"
    try:
        ce.get_cost_and_usage(TimePeriod={"Start": "2026-01-10", "End": "2026-01-10"},
                              Granularity="DAILY", Metrics=METRICS)
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Message"] == "Start date (and hour) should be before end date (and hour)"

    # the wire format: JSON 1.1 error body, error type and a fresh request id on every answer
    status, h, body = raw_ce(port, "GetCostAndUsage", {"TimePeriod": PERIOD, "Metrics": METRICS})
    assert status == 400 and body["__type"] == v and "Granularity" in body["message"], body
    assert h["x-amzn-ErrorType"] == v
    ok = {"TimePeriod": PERIOD, "Granularity": "MONTHLY", "Metrics": METRICS}
    ids = {h["x-amzn-RequestId"], raw_ce(port, "GetCostAndUsage", ok)[1]["x-amzn-RequestId"],
           raw_ce(port, "GetCostAndUsage", ok)[1]["x-amzn-RequestId"]}
    assert len(ids) == 3 and all(uuid.UUID(i) for i in ids)
    status, _, body = raw_ce(port, "GetCostAndUsage", b"{not json")
    assert status == 400 and body["__type"] == "SerializationException"


def check_results(ce, rows):
    """Buckets, totals, grouping by two dimensions and filters against sums computed here."""
    got = ce.get_cost_and_usage(TimePeriod={"Start": "2026-01-01", "End": "2026-02-01"},
                                Granularity="MONTHLY", Metrics=METRICS + ["BLENDED_COST"])
    (month,) = got["ResultsByTime"]
    assert month["TimePeriod"] == {"Start": "2026-01-01", "End": "2026-02-01"} and month["Estimated"]
    total = sum(Decimal(str(r["UnblendedCost"])) for r in rows)
    assert Decimal(month["Total"]["UnblendedCost"]["Amount"]) == total
    assert month["Total"]["BLENDED_COST"]["Amount"] == month["Total"]["UnblendedCost"]["Amount"]
    assert month["Total"]["UsageQuantity"]["Unit"] == "N/A" and month["Groups"] == []
    assert got["DimensionValueAttributes"] == [] and "NextPageToken" not in got

    daily = ce.get_cost_and_usage(TimePeriod={"Start": "2025-12-30", "End": "2026-01-21"},
                                  Granularity="DAILY", Metrics=METRICS, GroupBy=BY_ACCOUNT_USAGE_TYPE,
                                  Filter=USAGE_ONLY)
    assert "NextPageToken" not in daily
    assert daily["GroupDefinitions"] == BY_ACCOUNT_USAGE_TYPE
    by_day = {r["TimePeriod"]["Start"]: r for r in daily["ResultsByTime"]}
    assert len(by_day) == 22 and by_day["2025-12-30"]["Groups"] == [] and by_day[EMPTY.isoformat()]["Groups"] == []
    assert all(r["Total"] == {} for r in by_day.values())
    assert [d for d, r in by_day.items() if r["Estimated"]] == ["2026-01-19", "2026-01-20"]
    first = by_day["2026-01-02"]["Groups"]
    assert [g["Keys"] for g in first] == [[A, "USE1-BoxUsage:t3.micro"], [A, "USE1-TimedStorage-ByteHrs"],
                                          [B, "USE1-BoxUsage:t3.micro"]]
    assert first[0]["Metrics"]["UsageQuantity"] == {"Amount": "24", "Unit": "Hrs"}
    assert first[1]["Metrics"]["UsageQuantity"] == {"Amount": "1.5", "Unit": "GB-Mo"}
    assert groups_of([daily]) == expected(rows, lambda r: r["RECORD_TYPE"] == "Usage",
                                          ["LINKED_ACCOUNT", "USAGE_TYPE"])
    amortized = expected(rows, lambda r: r["RECORD_TYPE"] == "Usage", ["LINKED_ACCOUNT", "USAGE_TYPE"],
                         "AmortizedCost")
    assert groups_of([daily], "AmortizedCost") == amortized

    by_record_type = [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, {"Type": "DIMENSION", "Key": "RECORD_TYPE"}]
    other = ce.get_cost_and_usage(TimePeriod=PERIOD, Granularity="DAILY", Metrics=METRICS,
                                  GroupBy=by_record_type, Filter={"Not": USAGE_ONLY})
    want = expected(rows, lambda r: r["RECORD_TYPE"] != "Usage", ["LINKED_ACCOUNT", "RECORD_TYPE"])
    assert groups_of([other]) == want and want[("2026-01-10", (B, "Credit"))] == Decimal("-5")

    ec2_usage = {"And": [USAGE_ONLY, {"Dimensions": {"Key": "SERVICE", "Values": [EC2]}}]}
    both = ce.get_cost_and_usage(TimePeriod=PERIOD, Granularity="DAILY", Metrics=METRICS,
                                 GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}], Filter=ec2_usage)
    assert groups_of([both]) == expected(rows, lambda r: r["RECORD_TYPE"] == "Usage" and r["SERVICE"] == EC2,
                                         ["SERVICE"])
    return groups_of([daily])


def check_pagination(port, ce, rows, one_page):
    """page_size 3: pages split days, and together give what one big page gave."""
    seed(port, rows, page_size=3)
    kw = dict(TimePeriod={"Start": "2025-12-30", "End": "2026-01-21"}, Granularity="DAILY",
              Metrics=METRICS, GroupBy=BY_ACCOUNT_USAGE_TYPE, Filter=USAGE_ONLY)
    pages = all_pages(ce, **kw)
    assert groups_of(pages) == one_page
    assert len(pages) == math.ceil(len(one_page) / 3)
    days = [[r["TimePeriod"]["Start"] for r in p["ResultsByTime"]] for p in pages]
    flat = [d for p in days for d in p]
    assert flat == sorted(flat) and flat.count(EMPTY.isoformat()) == 1 and flat.count("2025-12-30") == 1
    assert all(sum(len(r["Groups"]) for r in p["ResultsByTime"]) <= 3 for p in pages)
    split = [a[-1] for a, b in zip(days, days[1:]) if a[-1] == b[0]]
    assert split, "some day must continue on the next page"
    assert all(p["GroupDefinitions"] == BY_ACCOUNT_USAGE_TYPE for p in pages)

    token = pages[0]["NextPageToken"]
    changed = dict(kw, Metrics=["UnblendedCost"])
    assert error_code(lambda: ce.get_cost_and_usage(**changed, NextPageToken=token)) == "RequestChangedException"
    assert error_code(lambda: ce.get_cost_and_usage(**kw, NextPageToken="bm9wZQ==")) == "InvalidNextTokenException"
    again = ce.get_cost_and_usage(**kw, NextPageToken=token)  # a token may be used again
    assert (again["ResultsByTime"], again["NextPageToken"]) == (pages[1]["ResultsByTime"], pages[1]["NextPageToken"])
    seed(port, rows)


def check_restate(port, ce, rows):
    day = {"Start": "2026-01-19", "End": "2026-01-20"}
    kw = dict(TimePeriod=day, Granularity="DAILY", Metrics=METRICS, GroupBy=BY_ACCOUNT_USAGE_TYPE, Filter=USAGE_ONLY)
    before = groups_of([ce.get_cost_and_usage(**kw)])
    fix = row(dt.date(2026, 1, 19), A, EC2, "USE1-BoxUsage:t3.micro", "Usage", 100.0, 48.0, "Hrs")
    status, _, body = http(port, CTL + "/restate", {"rows": [fix]})
    assert status == 200 and json.loads(body) == {"replaced": 1, "rows": len(rows)}, body
    after = groups_of([ce.get_cost_and_usage(**kw)])
    key = ("2026-01-19", (A, "USE1-BoxUsage:t3.micro"))
    assert after[key] == Decimal(100) and before[key] != after[key]
    assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}
    other_day = ce.get_cost_and_usage(**dict(kw, TimePeriod={"Start": "2026-01-18", "End": "2026-01-19"}))
    assert Decimal(other_day["ResultsByTime"][0]["Groups"][0]["Metrics"]["UnblendedCost"]["Amount"]) != 100
    seed(port, rows)  # back to the original figures; the calls log stays


def check_throttle_and_calls(port, ce):
    before = len(calls(port))
    assert http(port, CTL + "/throttle", {"count": 2})[0] == 200
    call = lambda: ce.get_cost_and_usage(TimePeriod=PERIOD, Granularity="MONTHLY", Metrics=METRICS)
    assert error_code(call) == "LimitExceededException"
    try:
        call()
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Message"] == "You have exceeded the rate limit"
    assert call()["ResultsByTime"]
    log = calls(port)
    assert len(log) == before + 3
    assert [(c["operation"], c["status"], c["error"]) for c in log[-3:]] == [
        ("GetCostAndUsage", 400, "LimitExceededException")] * 2 + [("GetCostAndUsage", 200, None)]
    assert log[-1]["body"] == {"TimePeriod": PERIOD, "Granularity": "MONTHLY", "Metrics": METRICS}
    assert any(c["error"] == "ValidationException" for c in log)


def check_forecast(ce, rows):
    week = sum(Decimal(str(r["UnblendedCost"])) for r in rows if r["day"] >= "2026-01-14")
    daily = week / 7
    fc = ce.get_cost_forecast(TimePeriod={"Start": "2026-01-21", "End": "2026-03-01"},
                              Metric="UNBLENDED_COST", Granularity="MONTHLY", PredictionIntervalLevel=80)
    jan, feb = fc["ForecastResultsByTime"]
    assert jan["TimePeriod"] == {"Start": "2026-01-21", "End": "2026-02-01"}
    close = lambda text, value: abs(Decimal(text) - value) < Decimal("1e-8")
    assert close(jan["MeanValue"], daily * 11) and close(feb["MeanValue"], daily * 28)
    assert close(feb["PredictionIntervalLowerBound"], daily * 28 * Decimal("0.9"))
    assert close(feb["PredictionIntervalUpperBound"], daily * 28 * Decimal("1.1"))
    assert close(fc["Total"]["Amount"], daily * 39) and fc["Total"]["Unit"] == "USD"
    days = ce.get_cost_forecast(TimePeriod={"Start": "2026-01-21", "End": "2026-03-01"},
                                Metric="AMORTIZED_COST", Granularity="DAILY")
    assert len(days["ForecastResultsByTime"]) == 39

    def code(**kw):
        args = {"TimePeriod": {"Start": "2026-01-21", "End": "2026-02-01"}, "Metric": "UNBLENDED_COST",
                "Granularity": "MONTHLY", **kw}
        return error_code(lambda: ce.get_cost_forecast(**args))

    assert code(TimePeriod={"Start": "2026-01-20", "End": "2026-02-01"}) == "ValidationException"
    assert code(TimePeriod={"Start": "2026-02-01", "End": "2026-01-25"}) == "ValidationException"
    assert code(Metric="USAGE_QUANTITY") == "ValidationException"
    assert code(Granularity="HOURLY") == "ValidationException"
    assert code(PredictionIntervalLevel=100) == "ValidationException"


def check_reset(port, ce, rows):
    """Both resets switch strict mode off and clear the log."""
    for path in ("/costwatch-emulator/reset", "/moto-api/reset"):
        seed(port, rows)
        http(port, CTL + "/throttle", {"count": 5})
        assert http(port, path)[0] == 200
        assert calls(port) == []
        check_unseeded(port, ce)


def main():
    moto, port = start("moto_peer.py")
    try:
        ce, _ = clients(port)
        rows = dataset()
        check_unseeded(port, ce)
        print("ok: unseeded, moto's queue and the built-in forecast answer")
        assert http(port, CTL + "/restate", {"rows": rows[:1]})[0] == 409
        assert http(port, CTL + "/dataset", {"rows": [{"day": "2026-13-01"}]})[0] == 400
        info = seed(port, rows)
        assert info == {"rows": len(rows), "newest": "2026-01-20", "today": "2026-01-21", "page_size": 500}
        check_validation(port, ce)
        print("ok: validation errors and the JSON 1.1 wire format")
        one_page = check_results(ce, rows)
        print("ok: buckets, totals, grouping by two dimensions, Not and And filters")
        check_pagination(port, ce, rows, one_page)
        print("ok: pagination split mid-day, tokens bound to their request")
        check_restate(port, ce, rows)
        print("ok: restating a day")
        check_throttle_and_calls(port, ce)
        print("ok: throttling and the calls log")
        check_forecast(ce, rows)
        print("ok: forecast and its validation")
        check_reset(port, ce, rows)
        print("ok: both resets switch strict mode off")
    finally:
        assert stopped(moto, "eof"), "moto peer did not exit on stdin EOF"


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"all checks passed in {time.monotonic() - t0:.1f}s")
