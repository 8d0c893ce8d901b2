#!/usr/bin/env python3
"""Writes costwatch's demo billing data: a small legacy CUR (CSV.gz, one file per month).

Three months (2026-01-01 .. 2026-03-20) for two linked accounts with ordinary noise, weekday
seasonality on batch compute, a `user:team` tag (platform, data, observability), month-start reserved-instance fees, tax and a credit, plus two
planted problems the demo run should report:
  * NAT gateway data processing jumps about 6x on 2026-03-18 (a forgotten data pipeline);
  * CloudWatch custom metrics (Container Insights, USE1-CW:MetricMonitorUsage) creep up ~3%/day
    from 2026-02-16.
Deterministic (fixed seed): rerunning reproduces the committed files byte for byte.
"""
import csv
import datetime as dt
import gzip
import io
import os
import random

HEADER = ["identity/LineItemId", "bill/PayerAccountId", "bill/BillingPeriodStartDate", "lineItem/UsageAccountId",
          "lineItem/LineItemType", "lineItem/UsageStartDate", "lineItem/ProductCode", "lineItem/UsageType",
          "lineItem/UsageAmount", "lineItem/UnblendedCost", "product/ProductName", "product/region", "pricing/unit", "resourceTags/user:team"]
PAYER = "111122223333"
SERIES = [  # account, product code, product name, usage type, unit, $/day, weekday factor (Mon..Sun)
    ("111122223333", "AmazonEC2", "Amazon Elastic Compute Cloud", "USE1-BoxUsage:m6i.xlarge", "Hrs", 184.0, None),
    ("111122223333", "AmazonEC2", "Amazon Elastic Compute Cloud", "USE1-NatGateway-Bytes", "GB", 21.0, None),
    ("111122223333", "AmazonS3", "Amazon Simple Storage Service", "USE1-TimedStorage-ByteHrs", "GB-Mo", 96.0, None),
    ("111122223333", "AmazonRDS", "Amazon Relational Database Service", "USE1-InstanceUsage:db.r6g.large", "Hrs", 62.0, None),
    ("111122223333", "AmazonCloudWatch", "AmazonCloudWatch", "USE1-CW:MetricMonitorUsage", "Metrics", 18.0, None),
    ("444455556666", "AmazonEC2", "Amazon Elastic Compute Cloud", "USE1-BoxUsage:c6i.4xlarge", "Hrs", 240.0,
     (1.15, 1.15, 1.15, 1.15, 1.1, 0.7, 0.7)),
    ("444455556666", "AWSLambda", "AWS Lambda", "USE1-Request", "Requests", 14.0, None),
    ("444455556666", "AmazonDynamoDB", "Amazon DynamoDB", "USE1-ReadCapacityUnit-Hrs", "ReadCapacityUnit-Hrs", 33.0, None),
    ("444455556666", "AmazonCloudWatch", "AmazonCloudWatch", "USE1-DataProcessing-Bytes", "GB", 0.4, None),
]
FIRST, LAST = dt.date(2026, 1, 1), dt.date(2026, 3, 20)


def team(series):
    """The `user:team` cost allocation tag: CloudWatch is the observability team's, the rest
    belongs to the account's team."""
    account, code = series[0], series[1]
    if code == "AmazonCloudWatch":
        return "observability"
    return "platform" if account == PAYER else "data"


def cost(series, day, rng):
    account, code, _, usage_type, _, base, weekly = series
    value = base * rng.lognormvariate(0, 0.05) * (weekly[day.weekday()] if weekly else 1.0)
    if usage_type == "USE1-NatGateway-Bytes" and day == dt.date(2026, 3, 18):
        value *= 6.0
    if usage_type == "USE1-CW:MetricMonitorUsage" and day >= dt.date(2026, 2, 16):
        value *= 1.03 ** (day - dt.date(2026, 2, 16)).days
    return value


def main():
    rng = random.Random(20260101)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    os.makedirs(out, exist_ok=True)
    rows, n = {}, 0
    day = FIRST
    while day <= LAST:
        period = day.replace(day=1)
        bucket = rows.setdefault(period, [])
        stamp = day.isoformat() + "T00:00:00Z"
        bill = period.isoformat() + "T00:00:00Z"
        for s in SERIES:
            value = cost(s, day, rng)
            rate = 0.05
            bucket.append([PAYER, bill, s[0], "Usage", stamp, s[1], s[3], "%.6f" % (value / rate),
                           "%.10f" % value, s[2], "us-east-1", s[4], team(s)])
        if day.day == 1:
            bucket.append([PAYER, bill, PAYER, "RIFee", stamp, "AmazonEC2", "USE1-HeavyUsage:m6i.xlarge", "744",
                           "1450.0000000000", "Amazon Elastic Compute Cloud", "us-east-1", "Hrs", ""])
            bucket.append([PAYER, bill, PAYER, "Tax", stamp, "AmazonEC2", "", "1", "310.0000000000",
                           "Amazon Elastic Compute Cloud", "", "", ""])
        if day == dt.date(2026, 2, 10):
            bucket.append([PAYER, bill, "444455556666", "Credit", stamp, "AWSLambda", "", "1", "-250.0000000000",
                           "AWS Lambda", "", "", ""])
        day += dt.timedelta(days=1)
    for period, bucket in rows.items():
        text = io.StringIO()
        w = csv.writer(text, lineterminator="\n")
        w.writerow(HEADER)
        for row in bucket:
            n += 1
            w.writerow(["demo%08d" % n] + row)
        path = os.path.join(out, "cur-%s.csv.gz" % period.strftime("%Y-%m"))
        with open(path, "wb") as f:
            f.write(gzip.compress(text.getvalue().encode(), mtime=0))
        print("wrote", path)


if __name__ == "__main__":
    main()
