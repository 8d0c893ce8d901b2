#!/usr/bin/env python3
"""Writes the rough labelled scenarios tests/scenarios/rough-NN/ (standard library only).

  python3 tests/scenarios/generate.py            # all scenarios
  python3 tests/scenarios/generate.py rough-03   # some of them
  python3 tests/scenarios/generate.py --seed-offset 1000 --out /tmp/held-out
                                                 # other draws of the same scenarios, to
                                                 # check that detection was not fitted to these

Each scenario folder gets one legacy-CUR file per billing month (cur-YYYY-MM.csv.gz,
the columns and layout of ../shared/scenarios/public) and labels.json (the public
format, read by ../shared/scenarios/score.py; the extra fields are ignored by it).
Every scenario has a fixed seed and gzip is written with mtime 0, so running the
generator twice gives byte-identical files. See README.md beside this file.
"""
import argparse
import csv
import datetime as dt
import gzip
import io
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
# Where the scenarios are written and what is added to each one's seed (--out, --seed-offset).
OUT_DIR = HERE
SEED_OFFSET = 0

# The header of the public files, column for column.
HEADER = [
    "identity/LineItemId", "identity/TimeInterval", "bill/PayerAccountId",
    "bill/BillingPeriodStartDate", "bill/BillingPeriodEndDate", "lineItem/UsageAccountId",
    "lineItem/LineItemType", "lineItem/UsageStartDate", "lineItem/UsageEndDate",
    "lineItem/ProductCode", "lineItem/UsageType", "lineItem/Operation",
    "lineItem/UsageAmount", "lineItem/CurrencyCode", "lineItem/UnblendedRate",
    "lineItem/UnblendedCost", "lineItem/BlendedCost", "lineItem/LineItemDescription",
    "product/ProductName", "product/region", "pricing/unit", "resourceTags/user:team",
]

# Creep labels: detect_by is the first day the noise-free level is this factor of
# the pre-creep level (+25 %).
CREEP_DETECT_FACTOR = 1.25
SHIFT_DETECT_DAYS = 3
SPIKE_DETECT_DAYS = 2
NEW_DETECT_DAYS = 2


class Product:
    def __init__(self, code, name, usage_type, operation, unit, rate, region, team, profile, base):
        self.code, self.name, self.usage_type, self.operation = code, name, usage_type, operation
        self.unit, self.rate, self.region, self.team = unit, rate, region, team
        self.profile, self.base = profile, base


EC2 = ("AmazonEC2", "Amazon Elastic Compute Cloud")
CW = ("AmazonCloudWatch", "AmazonCloudWatch")
S3 = ("AmazonS3", "Amazon Simple Storage Service")
RDS = ("AmazonRDS", "Amazon Relational Database Service")

# key: product code and name, usage type, operation, unit, rate, region, team,
# default profile and range of the base daily cost ($). Names and rates follow the public set.
CATALOG = {k: Product(*v) for k, v in {
    "ec2.m5": (*EC2, "USE1-BoxUsage:m5.xlarge", "RunInstances", "Hrs", 0.192, "us-east-1", "web", "always_on", (40, 300)),
    "ec2.m5.usw2": (*EC2, "USW2-BoxUsage:m5.xlarge", "RunInstances", "Hrs", 0.192, "us-west-2", "web", "always_on", (15, 120)),
    "ec2.c5": (*EC2, "USE1-BoxUsage:c5.2xlarge", "RunInstances", "Hrs", 0.34, "us-east-1", "batch", "batch", (20, 220)),
    "ec2.r5": (*EC2, "USE1-BoxUsage:r5.2xlarge", "RunInstances", "Hrs", 0.504, "us-east-1", "data", "batch", (30, 200)),
    "ec2.ebs": (*EC2, "USE1-EBS:VolumeUsage.gp3", "CreateVolume-Gp3", "GB-Mo", 0.08, "us-east-1", "web", "storage", (3, 80)),
    "ec2.snap": (*EC2, "USE1-EBS:SnapshotUsage", "CreateSnapshot", "GB-Mo", 0.05, "us-east-1", "platform", "storage", (1, 30)),
    "ec2.nat": (*EC2, "USE1-NatGateway-Bytes", "NatGateway", "GB", 0.045, "us-east-1", "platform", "traffic", (5, 90)),
    "ec2.dtr": (*EC2, "USE1-DataTransfer-Regional-Bytes", "InterZone-In", "GB", 0.01, "us-east-1", "platform", "traffic", (0.5, 15)),
    "ecs.fargate": ("AmazonECS", "Amazon Elastic Container Service", "USE1-Fargate-vCPU-Hours:perCPU", "FargateTask", "hours", 0.04048, "us-east-1", "batch", "batch", (10, 140)),
    "eks": ("AmazonEKS", "Amazon Elastic Container Service for Kubernetes", "USE1-AmazonEKS-Hours:perCluster", "CreateOperation", "Hours", 0.1, "us-east-1", "platform", "fixed", (2.4, 9.6)),
    "elb": ("AWSELB", "Elastic Load Balancing", "USE1-LoadBalancerUsage", "LoadBalancing:Application", "Hrs", 0.0225, "us-east-1", "web", "always_on", (1.5, 12)),
    "lambda.gbs": ("AWSLambda", "AWS Lambda", "USE1-Lambda-GB-Second", "Invoke", "Lambda-GB-Second", 0.0000166667, "us-east-1", "web", "traffic", (3, 70)),
    "lambda.req": ("AWSLambda", "AWS Lambda", "USE1-Request", "Invoke", "Requests", 0.0000002, "us-east-1", "web", "traffic", (0.5, 15)),
    "dynamo.rru": ("AmazonDynamoDB", "Amazon DynamoDB", "USE1-ReadRequestUnits", "PayPerRequestThroughput", "ReadRequestUnits", 0.00000025, "us-east-1", "web", "traffic", (2, 50)),
    "s3.storage": (*S3, "USE1-TimedStorage-ByteHrs", "StandardStorage", "GB-Mo", 0.023, "us-east-1", "data", "storage", (10, 350)),
    "s3.req": (*S3, "USE1-Requests-Tier1", "PutObject", "Requests", 0.000005, "us-east-1", "data", "traffic", (1, 35)),
    "sns": ("AmazonSNS", "Amazon Simple Notification Service", "USE1-Requests-Tier1", "Publish", "Requests", 0.0000005, "us-east-1", "platform", "traffic", (0.2, 4)),
    "sqs": ("AWSQueueService", "Amazon Simple Queue Service", "USE1-Requests-Tier1", "GetQueueAttributes", "Requests", 0.0000004, "us-east-1", "platform", "traffic", (0.2, 5)),
    "kms": ("AWSKMS", "AWS Key Management Service", "us-east-1-KMS-Requests", "GenerateDataKey", "Requests", 0.000003, "us-east-1", "platform", "traffic", (0.1, 3)),
    "secrets": ("AWSSecretsManager", "AWS Secrets Manager", "USE1-AWSSecretsManager-Secrets", "", "Secrets", 0.0133333333, "us-east-1", "platform", "fixed", (0.3, 6)),
    "r53": ("AmazonRoute53", "Amazon Route 53", "HostedZone", "", "Hosted Zone", 0.0166666667, "us-east-1", "platform", "fixed", (0.2, 2)),
    "cw.metrics": (*CW, "USE1-CW:MetricMonitorUsage", "MetricStorage", "Metrics", 0.01, "us-east-1", "platform", "metrics", (3, 50)),
    "cw.logs": (*CW, "USE1-DataProcessing-Bytes", "PutLogEvents", "GB", 0.5, "us-east-1", "platform", "traffic", (5, 120)),
    "cw.storage": (*CW, "USE1-TimedStorage-ByteHrs", "HourlyStorageMetering", "GB-Mo", 0.03, "us-east-1", "platform", "storage", (2, 50)),
    "cloudfront": ("AmazonCloudFront", "Amazon CloudFront", "US-DataTransfer-Out-Bytes", "GET", "GB", 0.085, "us-east-1", "web", "traffic", (5, 120)),
    "rds.inst": (*RDS, "USE1-InstanceUsage:db.r6g.large", "CreateDBInstance", "Hrs", 0.26, "us-east-1", "web", "always_on", (12, 200)),
    "rds.storage": (*RDS, "USE1-RDS:GP3-Storage", "CreateDBInstance", "GB-Mo", 0.115, "us-east-1", "web", "storage", (3, 50)),
    "elasticache": ("AmazonElastiCache", "Amazon ElastiCache", "USE1-NodeUsage:cache.r6g.large", "CreateCacheCluster:0002", "NodeHour", 0.206, "us-east-1", "web", "always_on", (5, 60)),
    "kinesis": ("AmazonKinesis", "Amazon Kinesis", "USE1-ShardHour", "shardHourStorage", "ShardHour", 0.015, "us-east-1", "data", "fixed", (1.5, 15)),
    "ecr": ("AmazonECR", "Amazon EC2 Container Registry (ECR)", "USE1-TimedStorage-ByteHrs", "", "GB-Mo", 0.1, "us-east-1", "platform", "storage", (0.3, 8)),
    "glue": ("AWSGlue", "AWS Glue", "USE1-ETL-DPU-Hour", "Jobrun", "DPU-Hour", 0.44, "us-east-1", "data", "batch", (4, 60)),
    "athena": ("AmazonAthena", "Amazon Athena", "USE1-DataScannedInTB", "RunQuery", "Terabytes", 5.0, "us-east-1", "data", "traffic", (1, 20)),
    "bedrock": ("AmazonBedrock", "Amazon Bedrock", "USE1-Claude-InputTokenCount", "InvokeModel", "Tokens", 0.000003, "us-east-1", "ml", "traffic", (10, 80)),
    "sagemaker": ("AmazonSageMaker", "Amazon SageMaker", "USE1-ml.g5.2xlarge-hosting", "RunInstance:0001", "Hrs", 1.515, "us-east-1", "ml", "always_on", (36.36, 36.36)),
    "opensearch": ("AmazonOpenSearchService", "Amazon OpenSearch Service", "USE1-ESInstance:r6g.large", "ESDomain", "Hrs", 0.167, "us-east-1", "data", "always_on", (12, 48)),
}.items()}

# Background keys drawn at random for each account (the new-service products are left out,
# so a labelled `new` is really the first spend of its product code in its account).
BACKGROUND = [
    "ec2.m5", "ec2.m5.usw2", "ec2.c5", "ec2.r5", "ec2.ebs", "ec2.snap", "ec2.nat", "ec2.dtr",
    "ecs.fargate", "eks", "elb", "lambda.gbs", "lambda.req", "dynamo.rru", "s3.storage",
    "s3.req", "sns", "sqs", "kms", "secrets", "r53", "cw.metrics", "cw.logs", "cw.storage",
    "cloudfront", "rds.inst", "rds.storage", "elasticache", "kinesis", "ecr", "athena",
]

# weekend factor, log-noise sigma, AR(1) coefficient of the noise, organic growth in % a week.
PROFILES = {
    "batch": dict(weekend=(0.3, 0.6), sigma=(0.12, 0.25), phi=(0.1, 0.4), growth=(-0.4, 0.5)),
    "always_on": dict(weekend=(0.93, 1.0), sigma=(0.03, 0.08), phi=(0.3, 0.6), growth=(-0.3, 0.4)),
    "traffic": dict(weekend=(0.7, 0.92), sigma=(0.08, 0.2), phi=(0.0, 0.3), growth=(-0.4, 0.5)),
    "storage": dict(weekend=(1.0, 1.0), sigma=(0.01, 0.03), phi=(0.5, 0.8), growth=(0.0, 0.5)),
    "metrics": dict(weekend=(1.0, 1.0), sigma=(0.04, 0.10), phi=(0.2, 0.5), growth=(-0.2, 0.4)),
    "fixed": dict(weekend=(1.0, 1.0), sigma=(0.005, 0.02), phi=(0.0, 0.0), growth=(0.0, 0.0)),
    "tiny": dict(weekend=(0.8, 1.0), sigma=(0.4, 0.8), phi=(0.0, 0.2), growth=(-0.3, 0.3)),
}


def day(s):
    return dt.date.fromisoformat(s)


def iso(d):
    return d.isoformat()


def stamp(d):
    return d.isoformat() + "T00:00:00Z"


def month_start(d):
    return d.replace(day=1)


def next_month(d):
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


class Series:
    """One (account, usage type) series, one line item a day (two for a split series)."""

    def __init__(self, sc, account, key, base, profile=None, sigma=None, phi=None,
                 growth=None, weekend=None):
        rng = sc.rng
        prod = CATALOG[key]
        prof = PROFILES[profile or prod.profile]
        self.sc, self.account, self.key, self.prod, self.base = sc, account, key, prod, base
        self.weekend = weekend if weekend is not None else rng.uniform(*prof["weekend"])
        self.sigma = sigma if sigma is not None else rng.uniform(*prof["sigma"])
        self.phi = phi if phi is not None else rng.uniform(*prof["phi"])
        self.growth = (growth if growth is not None else rng.uniform(*prof["growth"])) / 100
        self.begin = None          # first day index with spend (a new series)
        self.mult = []             # (from, to, factor or callable) multiplicative events
        self.adds = []             # (from, source series, fraction) workload moved in
        self.month_end = None      # (days, {month: factor})
        self.jumps = False         # tiny series: rare 4-15x jumps worth cents
        self.split = None          # a second line item with this share of the cost
        n = sc.n_days
        e, noise = rng.gauss(0, self.sigma), []
        for _ in range(n):
            noise.append(e)
            e = self.phi * e + math.sqrt(1 - self.phi ** 2) * rng.gauss(0, self.sigma)
        self.noise = [math.exp(x - self.sigma ** 2 / 2) for x in noise]
        self.jump = [rng.uniform(4, 15) if rng.random() < 0.04 else 1.0 for _ in range(n)]

    def own(self, t):
        """Noise-free level of the series' own workload, before any move out."""
        if self.begin is not None and t < self.begin:
            return 0.0
        d = self.sc.days[t]
        lvl = self.base * (1 + self.growth) ** (t / 7)
        if d.weekday() >= 5:
            lvl *= self.weekend
        if self.month_end:
            n, factors = self.month_end
            if (next_month(d) - d).days <= n:
                lvl *= factors[(d.year, d.month)]
        for a, b, f in self.mult:
            if a <= t < b:
                lvl *= f(t) if callable(f) else f
        if self.begin is not None and t == self.begin:
            lvl *= 0.5  # the new service started during the day
        return lvl

    def expected(self, t):
        lvl = self.own(t)
        for a, src, frac in self.adds:
            if t >= a:
                lvl += frac * src.own_unmoved(t)
        return lvl

    def own_unmoved(self, t):
        saved, self.mult = self.mult, [m for m in self.mult if not getattr(m, "move", False)]
        try:
            return self.own(t)
        finally:
            self.mult = saved

    def cost(self, t):
        c = self.expected(t) * self.noise[t]
        if self.jumps:
            c *= self.jump[t]
        return c


class Move(tuple):
    move = True


class Scenario:
    def __init__(self, name, seed, first, last, evaluate_from, n_accounts):
        self.name, self.seed = name, seed
        self.rng = random.Random(seed + SEED_OFFSET)
        self.first, self.last, self.evaluate_from = day(first), day(last), day(evaluate_from)
        assert (self.evaluate_from - self.first).days >= 45, name
        self.n_days = (self.last - self.first).days + 1
        self.days = [self.first + dt.timedelta(days=i) for i in range(self.n_days)]
        self.accounts = []
        while len(self.accounts) < n_accounts:
            acct = str(self.rng.randint(10 ** 11, 10 ** 12 - 1))
            if acct not in self.accounts:
                self.accounts.append(acct)
        self.series = []
        self.labels = []
        self.quiet = []
        self.credits = []          # (account, day index, cost[, product])
        self.credit_pools = []     # (account number, key, amount)
        self.ri = {}               # account -> reserved m5.large count
        self.incomplete = self.rng.uniform(0.3, 0.5)

    # --- building -----------------------------------------------------------------------
    def t(self, d):
        return (day(d) - self.first).days

    def find(self, a, key):
        acct = self.accounts[a]
        for s in self.series:
            if s.account == acct and s.key == key:
                return s
        return None

    def add(self, a, key, base=None, **kw):
        """The series `key` of account number `a`, created if missing (base and profile
        given here replace those of a background series of the same key)."""
        s = self.find(a, key)
        if s is not None and base is None and not kw:
            return s
        if s is not None:
            self.series.remove(s)
        if base is None:
            base = self.rng.uniform(*CATALOG[key].base)
        s = Series(self, self.accounts[a], key, base, **kw)
        self.series.append(s)
        return s

    def background(self, a, n, exclude=()):
        have = {s.key for s in self.series if s.account == self.accounts[a]}
        pool = [k for k in BACKGROUND if k not in have and k not in exclude]
        for key in self.rng.sample(pool, n):
            self.add(a, key)

    def tiny(self, a, key):
        s = self.add(a, key, base=self.rng.uniform(0.01, 0.3), profile="tiny")
        s.jumps = True
        self.quiet.append(dict(kind="tiny", account=s.account, usage_type=s.prod.usage_type,
                               product_code=s.prod.code, base_daily_cost=round(s.base, 2),
                               note="cents a day, noise %.0f%%, rare 4-15x jumps" % (100 * s.sigma)))
        return s

    def split(self, a, key=None):
        """Bill a series as two line items a day (two NAT gateways, two instances...)."""
        if key is None:
            acct = self.accounts[a]
            key = self.rng.choice(sorted(s.key for s in self.series if s.account == acct
                                         and not s.mult and not s.adds and s.month_end is None
                                         and s.prod.profile in ("always_on", "traffic")))
        s = self.find(a, key)
        s.split = self.rng.uniform(0.3, 0.7)

    def month_end(self, a, key, n_days, base=None):
        s = self.add(a, key, base) if base is not None else self.add(a, key)
        months, d = {}, month_start(self.first)
        while d <= self.last:
            months[(d.year, d.month)] = self.rng.uniform(2.0, 3.0)
            d = next_month(d)
        s.month_end = (n_days, months)
        self.quiet.append(dict(kind="month_end_batch", account=s.account, product_code=s.prod.code,
                               usage_type=s.prod.usage_type, days=n_days, factor="2-3x every month"))
        return s

    def label(self, kind, s, start, end, detect_by, **extra):
        assert self.evaluate_from <= start <= detect_by <= self.last - dt.timedelta(days=2), (self.name, kind)
        self.labels.append(dict(kind=kind, account=s.account, product_code=s.prod.code,
                                product_name=s.prod.name, usage_type=s.prod.usage_type,
                                start=iso(start), end=iso(end), detect_by=iso(detect_by), **extra))

    def creep(self, a, key, base, per_week, sigma, start):
        """Compounding daily growth of `per_week` a week from `start` on a noisy series."""
        s = self.add(a, key, base, sigma=sigma, phi=0.0, growth=0.0)
        t0 = self.t(start)
        daily = (1 + per_week) ** (1 / 7)
        s.mult.append((t0, self.n_days, lambda t: daily ** (t - t0 + 1)))
        k = next(k for k in range(1, 10000) if daily ** k >= CREEP_DETECT_FACTOR)
        detect_by = day(start) + dt.timedelta(days=k - 1)
        self.label("creep", s, day(start), self.last, detect_by,
                   growth_per_week=per_week, growth_per_day=round(daily - 1, 6),
                   base_daily_cost=base, noise_sigma=sigma,
                   detect_by_rule="first day the noise-free level is >= %.2fx the pre-creep level"
                                  % CREEP_DETECT_FACTOR)
        return s

    def spike(self, a, key, base, factor, start, n_days):
        s = self.add(a, key, base)
        t0 = self.t(start)
        s.mult.append((t0, t0 + n_days, factor))
        self.label("spike", s, day(start), day(start) + dt.timedelta(days=n_days - 1),
                   day(start) + dt.timedelta(days=SPIKE_DETECT_DAYS), factor=factor,
                   base_daily_cost=base)
        return s

    def shift(self, a, key, base, factor, start):
        """A lasting step up in one account with no matching drop anywhere: labelled."""
        s = self.add(a, key, base)
        s.mult.append((self.t(start), self.n_days, factor))
        self.label("shift", s, day(start), self.last,
                   day(start) + dt.timedelta(days=SHIFT_DETECT_DAYS), factor=factor,
                   base_daily_cost=base)
        return s

    def new(self, a, key, base, start, sigma=None):
        acct = self.accounts[a]
        code = CATALOG[key].code
        assert not any(s.account == acct and s.prod.code == code for s in self.series), (self.name, key)
        kw = {"sigma": sigma} if sigma is not None else {}
        s = self.add(a, key, base, growth=0.0, **kw)
        s.begin = self.t(start)
        self.label("new", s, day(start), self.last,
                   day(start) + dt.timedelta(days=NEW_DETECT_DAYS), base_daily_cost=base)
        return s

    def move(self, a_from, a_to, key, frac, start, base_from=None, base_to=None):
        """Part (or all) of a workload moves from one account to another: not labelled."""
        src = self.add(a_from, key, base_from) if base_from else self.add(a_from, key)
        t0 = self.t(start)
        src.mult.append(Move((t0, self.n_days, 1.0 - frac)))
        if base_to == 0:  # the receiving account had none of this usage type
            dst = self.add(a_to, key, 1.0)
            dst.base = 0.0
        else:
            dst = self.add(a_to, key, base_to) if base_to else self.add(a_to, key)
        ratio = self.rng.uniform(0.93, 1.07)
        dst.adds.append((t0, src, frac * ratio))
        moved = frac * src.own_unmoved(t0)
        self.quiet.append(dict(kind="cross_account_offset", usage_type=src.prod.usage_type,
                               product_code=src.prod.code, from_account=src.account,
                               to_account=dst.account, day=start, fraction_moved=frac,
                               moved_daily_cost=round(moved, 2), received_ratio=round(ratio, 3)))
        return src, dst

    def step_down(self, a, key, factor, start, base=None):
        s = self.add(a, key, base) if base else self.add(a, key)
        s.mult.append((self.t(start), self.n_days, factor))
        self.quiet.append(dict(kind="step_down", account=s.account, product_code=s.prod.code,
                               usage_type=s.prod.usage_type, day=start, factor=factor))

    def promo_credits(self, a, per_month=(1, 2)):
        """Sporadic promotional credits on EC2 m5.xlarge (as in the public set)."""
        d = month_start(self.first)
        while d <= self.last:
            n = (next_month(d) - d).days
            for _ in range(self.rng.randint(*per_month)):
                t = self.t(iso(d)) + self.rng.randrange(n)
                if t < self.n_days - 1:
                    self.credits.append((self.accounts[a], t, -self.rng.uniform(100, 350)))
            d = next_month(d)
        self.quiet.append(dict(kind="promotional_credits", account=self.accounts[a]))

    def credit_pool(self, a, key, amount):
        """A promotional credit that covers all of one series until it runs out."""
        self.credit_pools.append((a, key, amount))

    def reserved(self, a, count):
        self.ri[self.accounts[a]] = count

    # --- writing ------------------------------------------------------------------------
    def rows(self):
        rng = self.rng
        payer = self.accounts[0]
        line = 0
        by_month = {}
        usage_by_account_month = {}
        costs = {id(s): [s.cost(t) for t in range(self.n_days)] for s in self.series}
        last = self.n_days - 1
        for s in self.series:
            costs[id(s)][last] *= self.incomplete * rng.uniform(0.9, 1.1)
        pools = []
        for a, key, amount in self.credit_pools:
            s = self.find(a, key)
            left, until = amount, None
            for t in range(self.n_days):
                c = min(left, costs[id(s)][t])
                if c <= 0:
                    break
                self.credits.append((s.account, t, -c, s.prod))
                left -= c
                until = t
            pools.append(dict(kind="credit_runs_out", account=s.account, product_code=s.prod.code,
                              usage_type=s.prod.usage_type, credit=amount,
                              last_covered_day=iso(self.days[until])))
        self.quiet.extend(pools)
        credits_by_day = {}
        for c in self.credits:
            credits_by_day.setdefault(c[1], []).append(c)
        for t, d in enumerate(self.days):
            ms = month_start(d)
            bill = (payer, stamp(ms), stamp(next_month(ms)))
            rows = by_month.setdefault((d.year, d.month), [])
            day_rows = []
            for s in self.series:
                c = costs[id(s)][t]
                if c <= 0:
                    continue
                key = (s.account, d.year, d.month)
                usage_by_account_month[key] = usage_by_account_month.get(key, 0.0) + c
                parts = [c] if s.split is None else [c * s.split, c * (1 - s.split)]
                for part in parts:
                    day_rows.append(("Usage", s.account, s.prod, part))
            rng.shuffle(day_rows)
            if d.day == 1 and t != last:
                for acct in self.accounts:
                    prev = (d - dt.timedelta(days=1))
                    ref = usage_by_account_month.get((acct, prev.year, prev.month))
                    if ref is None:  # first month: a month of today's spend
                        ref = 30 * sum(r[3] for r in day_rows if r[1] == acct)
                    if acct in self.ri:
                        day_rows.append(("RIFee", acct, None, self.ri[acct]))
                    day_rows.append(("Fee", acct, None, max(100.0, 0.06 * ref) * rng.uniform(0.97, 1.03)))
                    day_rows.append(("Tax", acct, None, 0.05 * ref * rng.uniform(0.9, 1.1)))
            for c in credits_by_day.get(t, []):
                day_rows.append(("Credit", c[0], c[3] if len(c) > 3 else None, c[2]))
            for kind, acct, prod, value in day_rows:
                line += 1
                rows.append(self.row(line, bill, d, kind, acct, prod, value))
        return by_month, line

    def row(self, line, bill, d, kind, acct, prod, value):
        start, end = stamp(d), stamp(d + dt.timedelta(days=1))
        head = ["li%010d" % line, start + "/" + end, bill[0], bill[1], bill[2], acct, kind, start, end]
        ec2 = CATALOG["ec2.m5"]
        if kind == "Usage":
            p, cost = prod, value
            return head + [p.code, p.usage_type, p.operation, "%.6f" % (cost / p.rate), "USD",
                           "%.10f" % p.rate, "%.10f" % cost, "%.10f" % cost,
                           "$%.4f per %s" % (p.rate, p.unit), p.name, p.region, p.unit, p.team]
        if kind == "RIFee":
            hours = (next_month(d) - d).days * 24 * value
            cost = hours * 0.06
            return head + [ec2.code, "HeavyUsage:m5.large", "RunInstances", "%.6f" % hours, "USD",
                           "%.10f" % 0.06, "%.10f" % cost, "%.10f" % cost, "reserved instance fee",
                           ec2.name, "us-east-1", "Hrs", ""]
        if kind == "Fee":
            return head + ["AWSSupportBusiness", "Dollar", "", "1.000000", "USD", "1.0000000000",
                           "%.10f" % value, "%.10f" % value, "AWS Support (Business)",
                           "AWS Support (Business)", "us-east-1", "Dollar", ""]
        if kind == "Tax":
            return head + [ec2.code, "", "", "1.000000", "USD", "1.0000000000", "%.10f" % value,
                           "%.10f" % value, "Tax for product code AmazonEC2", ec2.name,
                           "us-east-1", "", ""]
        if kind == "Credit":
            p = prod or ec2
            return head + [p.code, p.usage_type, p.operation, "0.000000", "USD", "1.0000000000",
                           "%.10f" % value, "%.10f" % value, "AWS promotional credit", p.name,
                           p.region, p.unit, ""]
        raise ValueError(kind)

    def rises(self):
        """(account, day) of every unlabelled rise: offsets received, month-end batch days,
        credits running out."""
        for q in self.quiet:
            if q["kind"] == "cross_account_offset":
                yield q["to_account"], day(q["day"])
            elif q["kind"] == "credit_runs_out":
                yield q["account"], day(q["last_covered_day"]) + dt.timedelta(days=1)
            elif q["kind"] == "month_end_batch":
                for d in self.days:
                    if (next_month(d) - d).days <= q["days"]:
                        yield q["account"], d

    def check_separation(self):
        """score.py credits an account-wide alert (no service) to any label of its account
        whose window holds the alert's day: keep the unlabelled rises out of those windows,
        so such an alert is a false alarm and not a lucky detection. For the same reason
        two labels of one account never have overlapping windows."""
        windows = [(l["account"], day(l["start"]), day(l["end"]) + dt.timedelta(days=3))
                   for l in self.labels]
        for i, (a1, lo1, hi1) in enumerate(windows):
            for a2, lo2, hi2 in windows[i + 1:]:
                assert not (a1 == a2 and lo1 <= hi2 and lo2 <= hi1), (self.name, a1)
        for acct, d in self.rises():
            for l in self.labels:
                lo, hi = day(l["start"]), day(l["end"]) + dt.timedelta(days=3)
                assert not (acct == l["account"] and lo <= d + dt.timedelta(days=1) and d <= hi), \
                    (self.name, l["kind"], l["usage_type"], iso(d))

    def write(self):
        out = os.path.join(OUT_DIR, self.name)
        os.makedirs(out, exist_ok=True)
        for f in os.listdir(out):
            if f.startswith("cur-") and f.endswith(".csv.gz"):
                os.remove(os.path.join(out, f))
        by_month, n_lines = self.rows()
        self.check_separation()
        for (y, m), rows in sorted(by_month.items()):
            buf = io.StringIO()
            w = csv.writer(buf)  # CRLF line ends, as the public files
            w.writerow(HEADER)
            w.writerows(rows)
            data = gzip.compress(buf.getvalue().encode(), compresslevel=9, mtime=0)
            with open(os.path.join(out, "cur-%04d-%02d.csv.gz" % (y, m)), "wb") as f:
                f.write(data)
        doc = {
            "scenario": self.name,
            "suite": "rough",
            "first_day": iso(self.first),
            "last_day": iso(self.last),
            "evaluate_from": iso(self.evaluate_from),
            "accounts": self.accounts,
            "line_items": n_lines,
            "labels": self.labels,
            "seed": self.seed,
            "series": len(self.series),
            "incomplete_last_day": round(self.incomplete, 3),
            "quiet": self.quiet,
        }
        with open(os.path.join(out, "labels.json"), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        return doc


# --- the scenarios ------------------------------------------------------------------------

def rough_01():
    sc = Scenario("rough-01", 101, "2026-01-01", "2026-04-27", "2026-02-15", 4)
    sc.add(1, "ec2.m5", 260.0)
    sc.add(2, "ec2.m5", 70.0)
    sc.add(0, "cw.metrics", 150.0)
    for a, n in enumerate((8, 7, 8, 7)):
        sc.background(a, n)
    sc.creep(0, "cw.metrics", 150.0, 0.03, 0.20, "2026-02-20")
    sc.move(1, 2, "ec2.m5", 0.6, "2026-03-18")
    sc.spike(3, "lambda.req", 18.0, 6.0, "2026-03-30", 1)
    sc.month_end(2, "ec2.c5", 3, base=90.0)
    sc.month_end(1, "glue", 2, base=25.0)
    sc.tiny(3, "kms")
    sc.tiny(1, "sns")
    sc.split(1, "ec2.m5")
    sc.promo_credits(1)
    sc.reserved(0, 18)
    sc.reserved(1, 12)
    return sc


def rough_02():
    sc = Scenario("rough-02", 202, "2026-02-01", "2026-06-20", "2026-03-20", 5)
    for a, n in enumerate((8, 8, 8, 7, 7)):
        sc.background(a, n)
    sc.creep(3, "cw.metrics", 45.0, 0.02, 0.18, "2026-03-24")
    sc.shift(1, "ec2.m5", 120.0, 2.0, "2026-04-22")
    sc.new(4, "bedrock", 60.0, "2026-05-12", sigma=0.2)
    sc.spike(2, "s3.req", 25.0, 4.0, "2026-04-07", 2)
    sc.month_end(0, "ecs.fargate", 3, base=70.0)
    sc.month_end(2, "athena", 2, base=8.0)
    sc.month_end(2, "ec2.c5", 4, base=120.0)
    sc.add(2, "ec2.m5", 85.0)
    sc.credit_pool(2, "ec2.m5", 6000.0)
    sc.tiny(0, "r53")
    sc.tiny(3, "sqs")
    sc.split(0)
    sc.reserved(0, 20)
    return sc


def rough_03():
    sc = Scenario("rough-03", 303, "2026-01-01", "2026-07-31", "2026-02-16", 3)
    sc.add(1, "rds.inst", 180.0)
    sc.add(1, "rds.storage", 28.0)
    for a, n in enumerate((6, 6, 6)):
        sc.background(a, n, exclude=("rds.inst", "rds.storage") if a == 2 else ())
    sc.creep(1, "cw.metrics", 320.0, 0.01, 0.15, "2026-02-20")
    sc.creep(0, "cw.logs", 35.0, 0.02, 0.22, "2026-04-01")
    # a database moved whole into an account that had no RDS before: quiet
    sc.move(1, 2, "rds.inst", 1.0, "2026-04-08", base_to=0)
    sc.move(1, 2, "rds.storage", 1.0, "2026-04-08", base_to=0)
    sc.spike(2, "cloudfront", 40.0, 4.0, "2026-05-14", 1)
    sc.month_end(2, "ec2.c5", 3, base=110.0)
    sc.month_end(2, "glue", 2, base=18.0)
    sc.tiny(2, "secrets")
    sc.reserved(0, 25)
    return sc


def rough_04():
    sc = Scenario("rough-04", 404, "2026-03-01", "2026-06-28", "2026-04-16", 6)
    sc.add(0, "ec2.m5", 200.0)
    sc.add(3, "ec2.m5", 60.0)
    sc.add(1, "ecs.fargate", 55.0)
    for a, n in enumerate((8, 8, 8, 7, 7, 7)):
        sc.background(a, n, exclude=("ecs.fargate",) if a == 0 else ())
    sc.creep(4, "cw.metrics", 7.0, 0.03, 0.25, "2026-04-20")
    sc.move(0, 3, "ec2.m5", 0.5, "2026-05-05")
    sc.move(1, 0, "ecs.fargate", 0.8, "2026-05-26", base_to=0)
    sc.spike(2, "dynamo.rru", 20.0, 8.0, "2026-05-18", 1)
    sc.new(5, "opensearch", 40.0, "2026-06-02")
    sc.month_end(1, "ec2.c5", 3, base=60.0)
    sc.month_end(0, "athena", 2, base=12.0)
    sc.month_end(2, "glue", 3, base=30.0)
    sc.month_end(3, "ec2.r5", 2, base=80.0)
    sc.tiny(5, "kms")
    sc.tiny(2, "r53")
    sc.tiny(0, "ecr")
    sc.split(0, "ec2.m5")
    sc.promo_credits(3, (0, 2))
    sc.reserved(0, 15)
    sc.reserved(2, 8)
    return sc


def rough_05():
    sc = Scenario("rough-05", 505, "2026-04-01", "2026-08-25", "2026-05-16", 5)
    sc.add(3, "ec2.c5", 95.0)
    sc.add(4, "ec2.c5", 40.0)
    for a, n in enumerate((7, 7, 7, 7, 6)):
        sc.background(a, n)
    sc.creep(0, "cw.metrics", 250.0, 0.02, 0.22, "2026-05-20")
    sc.creep(2, "ec2.nat", 60.0, 0.03, 0.20, "2026-06-10")
    sc.shift(1, "ec2.m5", 90.0, 1.8, "2026-06-24")
    sc.move(3, 4, "ec2.c5", 0.7, "2026-07-08")
    sc.spike(3, "cloudfront", 30.0, 5.0, "2026-07-21", 2)
    sc.month_end(3, "ecs.fargate", 3, base=45.0)
    sc.month_end(4, "glue", 2, base=40.0)
    sc.tiny(1, "sns")
    sc.promo_credits(0)
    sc.reserved(0, 22)
    return sc


def rough_06():
    sc = Scenario("rough-06", 606, "2026-01-01", "2026-05-10", "2026-02-15", 4)
    sc.add(0, "ec2.m5", 140.0)
    sc.add(1, "ec2.m5", 90.0)
    for a, n in enumerate((8, 8, 8, 5)):
        sc.background(a, n)
    sc.creep(2, "cw.metrics", 25.0, 0.03, 0.20, "2026-03-02")
    sc.creep(0, "lambda.gbs", 110.0, 0.02, 0.18, "2026-02-16")
    sc.step_down(1, "ec2.r5", 0.45, "2026-03-23", base=120.0)
    sc.move(0, 1, "ec2.m5", 1.0, "2026-04-06")
    sc.spike(1, "dynamo.rru", 35.0, 3.2, "2026-03-11", 1)
    sc.new(3, "sagemaker", 36.36, "2026-04-14")
    sc.month_end(1, "ec2.c5", 3, base=75.0)
    sc.month_end(1, "athena", 2, base=10.0)
    sc.credit_pool(1, "ec2.m5", 7000.0)
    sc.tiny(0, "secrets")
    sc.reserved(1, 10)
    return sc


def rough_07():
    sc = Scenario("rough-07", 707, "2026-02-01", "2026-06-12", "2026-03-18", 5)
    sc.add(0, "ecs.fargate", 80.0)
    sc.add(4, "ecs.fargate", 25.0)
    for a, n in enumerate((8, 8, 7, 8, 7)):
        sc.background(a, n)
    sc.creep(1, "cw.metrics", 90.0, 0.02, 0.20, "2026-03-19")
    sc.shift(3, "rds.inst", 75.0, 2.2, "2026-04-29")
    sc.move(0, 4, "ecs.fargate", 0.55, "2026-05-13")
    sc.new(2, "sagemaker", 36.36, "2026-05-25")
    sc.spike(4, "cw.logs", 30.0, 5.0, "2026-04-14", 2)
    sc.month_end(0, "ec2.c5", 3, base=100.0)
    sc.month_end(4, "glue", 2, base=20.0)
    sc.month_end(0, "athena", 3, base=6.0)
    sc.tiny(1, "kms")
    sc.tiny(4, "ecr")
    sc.promo_credits(2)
    sc.reserved(0, 16)
    sc.reserved(3, 9)
    return sc


def rough_08():
    sc = Scenario("rough-08", 808, "2026-05-01", "2026-08-28", "2026-06-15", 5)
    sc.add(0, "ec2.m5", 180.0)
    sc.add(4, "ec2.m5", 110.0)
    sc.add(2, "ec2.r5", 140.0)
    sc.add(1, "ec2.r5", 30.0)
    for a, n in enumerate((8, 8, 8, 8, 6)):
        sc.background(a, n)
    sc.creep(3, "cw.metrics", 500.0, 0.03, 0.25, "2026-06-18")
    sc.move(0, 4, "ec2.m5", 0.4, "2026-06-30")
    sc.move(2, 1, "ec2.r5", 0.5, "2026-07-20")
    sc.shift(1, "ec2.m5", 150.0, 1.7, "2026-08-12")
    sc.spike(1, "lambda.gbs", 40.0, 4.0, "2026-07-07", 1)
    sc.spike(2, "ec2.nat", 50.0, 3.0, "2026-08-04", 2)
    sc.new(0, "bedrock", 45.0, "2026-07-27", sigma=0.2)
    sc.month_end(4, "ec2.c5", 3, base=85.0)
    sc.month_end(1, "ecs.fargate", 2, base=50.0)
    sc.month_end(2, "glue", 3, base=35.0)
    sc.tiny(2, "sqs")
    sc.tiny(3, "r53")
    sc.split(2, "ec2.nat")
    sc.promo_credits(1, (0, 1))
    sc.reserved(0, 20)
    sc.reserved(3, 12)
    return sc


SCENARIOS = [rough_01, rough_02, rough_03, rough_04, rough_05, rough_06, rough_07, rough_08]


def main():
    global OUT_DIR, SEED_OFFSET
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="scenarios to write (default: all)")
    ap.add_argument("--out", default=HERE, help="the folder the scenario folders go in")
    ap.add_argument("--seed-offset", type=int, default=0, help="added to every scenario's seed")
    a = ap.parse_args()
    OUT_DIR, SEED_OFFSET = a.out, a.seed_offset
    wanted = set(a.names)
    for make in SCENARIOS:
        sc = make()
        if wanted and sc.name not in wanted:
            continue
        doc = sc.write()
        print("%s: %s .. %s, evaluate_from %s, %d accounts, %d series, %d line items, %d labels"
              % (sc.name, doc["first_day"], doc["last_day"], doc["evaluate_from"],
                 len(doc["accounts"]), doc["series"], doc["line_items"], len(doc["labels"])))


if __name__ == "__main__":
    main()
