"""Strict Cost Explorer: GetCostAndUsage and GetCostForecast computed from a seeded dataset.

Off until `POST /costwatch-emulator/ce-strict/dataset` seeds rows; then both operations
are validated and answered like AWS (JSON 1.1 errors, period buckets, grouping, filters,
group-level pagination with request-bound tokens, LimitExceededException throttling).
`reset()` switches it off again, so moto's seeded queues and the built-in defaults apply.
"""

import base64
import bisect
import datetime as dt
import hashlib
import json
import re
import threading
import uuid
from decimal import Decimal

from werkzeug.wrappers import Request, Response

CONTROL = "/costwatch-emulator/ce-strict"
TARGET = "AWSInsightsIndexService."
OPERATIONS = ("GetCostAndUsage", "GetCostForecast")
JSON11 = "application/x-amz-json-1.1"
DEFAULT_PAGE_SIZE = 500
# metric -> the metric a row without it falls back to (None: 0)
METRICS = {
    "AmortizedCost": None, "BlendedCost": "UnblendedCost", "NetAmortizedCost": "AmortizedCost",
    "NetUnblendedCost": "UnblendedCost", "NormalizedUsageAmount": "UsageQuantity",
    "UnblendedCost": None, "UsageQuantity": None,
}
USAGE_METRICS = {"UsageQuantity", "NormalizedUsageAmount"}
# GetCostAndUsage takes metric names in either spelling; GetCostForecast only the upper one
UPPER_METRICS = {re.sub(r"(?<!^)([A-Z])", r"_\1", m).upper(): m for m in METRICS}
FORECAST_METRICS = {k: v for k, v in UPPER_METRICS.items() if v not in USAGE_METRICS}
VALUE_KEYS = set(METRICS) | {"unit"}  # the rest of a row (day, dimensions, tags) identifies it
GROUP_DIMENSIONS = {
    "AZ", "INSTANCE_TYPE", "LEGAL_ENTITY_NAME", "INVOICING_ENTITY", "LINKED_ACCOUNT", "OPERATION",
    "PLATFORM", "PURCHASE_TYPE", "SERVICE", "TENANCY", "RECORD_TYPE", "USAGE_TYPE", "REGION",
}
FILTER_DIMENSIONS = GROUP_DIMENSIONS | {
    "BILLING_ENTITY", "CACHE_ENGINE", "DATABASE_ENGINE", "DEPLOYMENT_OPTION", "INSTANCE_TYPE_FAMILY",
    "OPERATING_SYSTEM", "PAYER_ACCOUNT", "PAYMENT_OPTION", "RESERVATION_ID", "SAVINGS_PLAN_ARN",
    "SAVINGS_PLANS_TYPE", "SCOPE", "SUBSCRIPTION_ID", "USAGE_TYPE_GROUP",
}
# group/filter type -> where a row keeps its labels of that type (None: top-level keys)
LABELS = {"DIMENSION": None, "TAG": "tags", "COST_CATEGORY": "cost_categories"}
VALUE_OPERATORS = {"Dimensions": "DIMENSION", "Tags": "TAG", "CostCategories": "COST_CATEGORY"}
OPERATORS = ("And", "Or", "Not", *VALUE_OPERATORS)
MATCH_OPTIONS = {"EQUALS", "ABSENT", "STARTS_WITH", "ENDS_WITH", "CONTAINS",
                 "CASE_SENSITIVE", "CASE_INSENSITIVE"}
DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}Z)?")
ONE_DAY = dt.timedelta(days=1)
MODELLED_ERRORS = {"DataUnavailableException", "InvalidNextTokenException", "LimitExceededException",
                   "RequestChangedException"}


class ApiError(Exception):
    """An AWS error answer: 400 with `__type` and the message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def fail(message):
    raise ApiError("ValidationException", message)


def answer(status, body, code=None):
    """A JSON 1.1 answer with a fresh request id (and the error type for errors)."""
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if code:
        headers["x-amzn-ErrorType"] = code
    return Response(json.dumps(body), status, headers, content_type=JSON11)


def error_answer(err):
    """Framework errors (validation, serialization) say `message`; CE's modelled exceptions
    carry their `Message` member."""
    field = "Message" if err.code in MODELLED_ERRORS else "message"
    return answer(400, {"__type": err.code, field: str(err)}, err.code)


def add_months(day, n):
    """The first day of the month `n` months after `day`'s month."""
    m = day.year * 12 + day.month - 1 + n
    return dt.date(m // 12, m % 12 + 1, 1)


def parse_date(value, name):
    """`yyyy-MM-dd` (a time suffix as HOURLY requests carry is ignored) as a date."""
    m = DATE.fullmatch(value) if isinstance(value, str) else None
    try:
        return dt.date.fromisoformat(m.group(1))
    except (AttributeError, ValueError):
        fail(f"{name} date {value!r} is not a valid date in yyyy-MM-dd format")


def time_period(req):
    """The request's TimePeriod as (start, end) dates, end exclusive."""
    tp = req.get("TimePeriod")
    if not isinstance(tp, dict) or not tp.get("Start") or not tp.get("End"):
        fail("TimePeriod with Start and End is required")
    return parse_date(tp["Start"], "Start"), parse_date(tp["End"], "End")


def granularity(req, allowed):
    value = req.get("Granularity")
    if value not in allowed:
        fail(f"Granularity {value!r} is not valid. Valid values are {', '.join(allowed)}")
    return value


def buckets(start, end, gran):
    """[start, end) as DAILY days or MONTHLY calendar months clipped to the range."""
    while start < end:
        nxt = start + ONE_DAY if gran == "DAILY" else min(end, add_months(start, 1))
        yield start, nxt
        start = nxt


def amount(value):
    """A Decimal as CE writes amounts: plain digits, at most 10 decimals, "0" for zero."""
    text = format(value.quantize(Decimal("1e-10")).normalize(), "f")
    return "0" if text in ("0", "-0") else text


def metric_names(req):
    """(requested name, dataset metric) of each requested metric."""
    names = req.get("Metrics")
    if not isinstance(names, list) or not names:
        fail("Metrics is required and must contain at least one metric")
    bad = [n for n in names if n not in METRICS and n not in UPPER_METRICS]
    if bad:
        fail(f"Metrics {bad} are not valid. Valid values are {', '.join(sorted(UPPER_METRICS))}")
    return [(n, UPPER_METRICS.get(n, n)) for n in dict.fromkeys(names)]


def group_definitions(req):
    """The request's GroupBy as [(Type, Key)], validated."""
    groups = req.get("GroupBy") or []
    if len(groups) > 2:
        fail("You can only group by up to two different keys (dimensions, tags or cost categories)")
    out = []
    for g in groups:
        kind, key = g.get("Type"), g.get("Key")
        if not kind or not key:
            fail("Group Definition is invalid. Both type and key need to be set to a non-empty value.")
        if kind not in LABELS:
            fail("Group Definition type is invalid.")
        if kind == "DIMENSION" and key not in GROUP_DIMENSIONS:
            fail(f"Group Definition dimension {key} is invalid. "
                 f"Valid values are {', '.join(sorted(GROUP_DIMENSIONS))}")
        if (kind, key) in out:
            fail(f"Group Definition {kind} {key} is duplicated")
        out.append((kind, key))
    return out


def check_expression(expr):
    """Validate a Filter Expression: exactly one operator per level, And/Or of >= 2."""
    present = [op for op in OPERATORS if isinstance(expr, dict) and expr.get(op) is not None]
    if len(present) != 1 or len(expr) != 1:
        fail("Expression has zero or more than one roots. Only one root operator is allowed "
             "for each expression: And, Or, Not, Dimensions, Tags or CostCategories")
    op, value = present[0], expr[present[0]]
    if op in ("And", "Or"):
        if not isinstance(value, list) or len(value) < 2:
            fail(f"{op} expression must have at least 2 operands")
        for operand in value:
            check_expression(operand)
    elif op == "Not":
        check_expression(value)
    else:
        check_values(op, value)


def check_values(op, spec):
    """Validate the Dimensions/Tags/CostCategories of an Expression."""
    key, options = spec.get("Key"), set(spec.get("MatchOptions") or ["EQUALS"])
    if not key:
        fail(f"{op} Key is required")
    if op == "Dimensions":
        if key not in FILTER_DIMENSIONS:
            fail(f"Dimension {key} is not allowed.")
        if not spec.get("Values"):
            fail(f"Dimension {key} needs at least one value")
        if not options <= {"EQUALS", "CASE_SENSITIVE"}:
            fail(f"MatchOptions {sorted(options)} are not supported for Dimensions")
    elif not options <= MATCH_OPTIONS:
        fail(f"MatchOptions {sorted(options - MATCH_OPTIONS)} are not valid")


def labels(row, kind):
    """A row's dimensions, tags or cost categories."""
    return row if LABELS[kind] is None else row.get(LABELS[kind]) or {}


def matches(expr, row):
    """Whether a row passes a (validated) Filter Expression."""
    if "And" in expr:
        return all(matches(e, row) for e in expr["And"])
    if "Or" in expr:
        return any(matches(e, row) for e in expr["Or"])
    if "Not" in expr:
        return not matches(expr["Not"], row)
    op, spec = next(iter(expr.items()))
    value = labels(row, VALUE_OPERATORS[op]).get(spec["Key"])
    options = set(spec.get("MatchOptions") or ["EQUALS"])
    if "ABSENT" in options or value is None:
        return "ABSENT" in options and value is None
    fold = str.lower if "CASE_INSENSITIVE" in options else str
    tests = {"STARTS_WITH": str.startswith, "ENDS_WITH": str.endswith,
             "CONTAINS": lambda a, b: b in a}
    test = next((tests[o] for o in options if o in tests), str.__eq__)
    return any(test(fold(str(value)), fold(v)) for v in spec.get("Values", []))


def group_key(row, kind, key):
    """A row's group key: the dimension value ("NoInstanceType" when missing) or `key$value`."""
    value = labels(row, kind).get(key)
    if kind != "DIMENSION":
        return f"{key}${value or ''}"
    return str(value) if value is not None else "No" + key.title().replace("_", "")


def row_value(row, metric):
    """A row's value of a metric, through the fallback chain of METRICS."""
    while metric is not None and metric not in row:
        metric = METRICS[metric]
    return Decimal(str(row[metric])) if metric else Decimal(0)


def metric_values(rows, names):
    """{name: {Amount, Unit}} of the sum over rows; usage units "N/A" when mixed or none."""
    units = {row.get("unit") for row in rows} - {None}
    usage_unit = units.pop() if len(units) == 1 else "N/A"
    return {
        name: {"Amount": amount(sum((row_value(r, metric) for r in rows), Decimal(0))),
               "Unit": usage_unit if metric in USAGE_METRICS else "USD"}
        for name, metric in names
    }


def request_digest(req):
    """A hash of the request without its token: what a NextPageToken is bound to."""
    rest = {k: v for k, v in req.items() if k != "NextPageToken"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()[:32]


def make_token(offset, digest):
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "r": digest}).encode()).decode()


def token_offset(token, digest, total):
    """The group offset a NextPageToken resumes at, or the error AWS answers."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset, bound_to = int(data["o"]), data["r"]
    except (ValueError, TypeError, KeyError, AttributeError):
        bound_to, offset = None, -1
    if bound_to is not None and bound_to != digest:
        raise ApiError("RequestChangedException", "Your request parameters changed between pages. "
                       "Try again with the old parameters or without a pagination token.")
    if not 0 < offset < total:
        raise ApiError("InvalidNextTokenException",
                       "The pagination token is invalid. Try again without a pagination token.")
    return offset


def page(results, offset, size):
    """The ResultsByTime holding groups [offset, offset + size) and the next offset (or None).

    A day split by the page boundary appears on both pages with its share of the groups;
    a day without groups appears once, on the page its position falls into.
    """
    end, total, seen, out = offset + size, sum(len(r["Groups"]) for r in results), 0, []
    for r in results:
        lo, n = seen, len(r["Groups"])
        seen += n
        if n and lo < end and lo + n > offset:
            out.append({**r, "Groups": r["Groups"][max(offset - lo, 0):end - lo]})
        elif not n and offset <= lo and (lo < end or end >= total):
            out.append(r)
    return out, end if end < total else None


def identity(row):
    """What a row is about: its day, dimensions, tags and cost categories."""
    return json.dumps({k: v for k, v in row.items() if k not in VALUE_KEYS}, sort_keys=True)


class Dataset:
    """Seeded rows as (day, row) pairs, with the emulated "today" and the page size."""

    def __init__(self, rows, page_size, today=None):
        self.rows = [(parse_date(r.get("day"), "day"), r) for r in rows]
        try:
            for _, r in self.rows:
                for m in METRICS:
                    row_value(r, m)
        except ArithmeticError:
            raise ValueError("metric values must be numbers") from None
        self.page_size, self.fixed_today = int(page_size), today
        if self.page_size < 1 or not (self.rows or today):
            raise ValueError("need rows (or a today) and a page_size >= 1")
        self.today = parse_date(today, "today") if today else max(d for d, _ in self.rows) + ONE_DAY
        self.newest = max((d for d, _ in self.rows), default=self.today - ONE_DAY)

    def restated(self, rows):
        """A copy with `rows` replacing the rows of the same day and dimensions; (copy, replaced)."""
        new = {identity(r): r for r in rows}
        kept = [r for _, r in self.rows if identity(r) not in new]
        replaced = len(self.rows) - len(kept)
        return Dataset(kept + list(new.values()), self.page_size, self.fixed_today), replaced

    def select(self, start, end, expr):
        """The (day, row) pairs in [start, end) that pass the filter."""
        return [(d, r) for d, r in self.rows if start <= d < end and (not expr or matches(expr, r))]


class Service:
    """The ext_*.py service: control endpoints plus the two strict operations."""

    def __init__(self, ext):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.dataset, self.throttles, self.calls = None, {}, []

    def route(self, environ):
        path = environ.get("PATH_INFO", "")
        op = environ.get("HTTP_X_AMZ_TARGET", "").removeprefix(TARGET)
        if path.startswith(CONTROL + "/"):
            return self.control(Request(environ), path[len(CONTROL):])
        if op in OPERATIONS and self.dataset is not None:
            return self.call(Request(environ), op)
        return None

    def control(self, req, path):
        """POST /dataset, /restate, /throttle; GET /calls."""
        body = req.get_json(force=True, silent=True) or {}
        try:
            if req.method == "GET" and path == "/calls":
                with self.lock:
                    return answer(200, list(self.calls))
            if req.method == "POST" and path == "/dataset":
                ds = Dataset(body.get("rows") or [], body.get("page_size", DEFAULT_PAGE_SIZE),
                             body.get("today"))
                with self.lock:
                    self.dataset = ds
                return answer(201, {"rows": len(ds.rows), "newest": ds.newest.isoformat(),
                                    "today": ds.today.isoformat(), "page_size": ds.page_size})
            if req.method == "POST" and path == "/restate":
                with self.lock:
                    if self.dataset is None:
                        return answer(409, {"message": "seed a dataset first"})
                    self.dataset, replaced = self.dataset.restated(body.get("rows") or [])
                return answer(200, {"replaced": replaced, "rows": len(self.dataset.rows)})
            if req.method == "POST" and path == "/throttle":
                with self.lock:
                    self.throttles[body.get("operation", "GetCostAndUsage")] = int(body.get("count", 1))
                return answer(200, {})
        except (ApiError, ValueError, TypeError, AttributeError) as exc:
            return answer(400, {"message": f"bad {path[1:]} request: {exc}"})
        return answer(404, {"message": f"no such ce-strict endpoint: {req.method} {path}"})

    def call(self, req, op):
        """Serve one GetCostAndUsage/GetCostForecast and log it in /calls."""
        raw = req.get_data(as_text=True)
        try:
            body = json.loads(raw or "{}")
        except ValueError:
            body = raw
        with self.lock:
            ds, throttled = self.dataset, self.throttles.get(op, 0) > 0
            if throttled:
                self.throttles[op] -= 1
        try:
            resp, error = answer(200, self.serve(op, ds, body, throttled)), None
        except ApiError as err:
            resp, error = error_answer(err), err.code
        with self.lock:
            self.calls.append({"operation": op, "body": body, "status": resp.status_code, "error": error})
        return resp

    def serve(self, op, ds, body, throttled):
        """The answer to one call, or the ApiError AWS would answer."""
        if throttled:
            raise ApiError("LimitExceededException", "You have exceeded the rate limit")
        if not isinstance(body, dict):
            raise ApiError("SerializationException", "the request body is not a JSON object")
        handler = self.cost_and_usage if op == "GetCostAndUsage" else self.forecast
        try:
            return handler(ds, body)
        except (TypeError, AttributeError) as exc:  # a member of the wrong JSON type
            raise ApiError("SerializationException", f"a request member has the wrong type: {exc}")

    def cost_and_usage(self, ds, req):
        """A GetCostAndUsage answer from the dataset: one page of ResultsByTime."""
        start, end = time_period(req)
        gran = granularity(req, ("DAILY", "MONTHLY", "HOURLY"))
        names, groups = metric_names(req), group_definitions(req)
        expr = req.get("Filter")
        if expr is not None:
            check_expression(expr)
        if start >= end:
            fail("Start date (and hour) should be before end date (and hour)")
        if end > add_months(ds.today, 1):
            fail("end date past the beginning of next month")
        if gran == "HOURLY":
            if start < ds.today - dt.timedelta(days=14):
                fail("Start date is more than 14 days ago for hourly granularity. "
                     "Please adjust start date as we support only 14 days of data at hourly granularity.")
            raise ApiError("DataUnavailableException", "Hourly data is not available for this account")
        if start < add_months(ds.today, -13):
            fail(f"start date is too old for {gran.lower()} granularity, "
                 "max months for data available is 14 months")
        results = self.results(ds.select(start, end, expr), list(buckets(start, end, gran)),
                               names, groups, ds.newest)
        digest, total = request_digest(req), sum(len(r["Groups"]) for r in results)
        token = req.get("NextPageToken")
        offset = token_offset(token, digest, total) if token else 0
        body, next_offset = page(results, offset, ds.page_size)
        out = {"ResultsByTime": body, "DimensionValueAttributes": []}
        if groups:
            out["GroupDefinitions"] = [{"Type": t, "Key": k} for t, k in groups]
        if next_offset is not None:
            out["NextPageToken"] = make_token(next_offset, digest)
        return out

    @staticmethod
    def results(selected, periods, names, groups, newest):
        """Every ResultByTime of the request, groups ordered by their keys."""
        starts, by_period = [a for a, _ in periods], [{} for _ in periods]
        for day, row in selected:
            keys = tuple(group_key(row, kind, key) for kind, key in groups)
            by_period[bisect.bisect_right(starts, day) - 1].setdefault(keys, []).append(row)
        results = []
        for (a, b), found in zip(periods, by_period):
            r = {"TimePeriod": {"Start": a.isoformat(), "End": b.isoformat()},
                 "Total": {}, "Groups": [], "Estimated": b >= newest}
            if groups:
                r["Groups"] = [{"Keys": list(k), "Metrics": metric_values(found[k], names)}
                               for k in sorted(found)]
            else:
                r["Total"] = metric_values(found.get((), []), names)
            results.append(r)
        return results

    def forecast(self, ds, req):
        """Mean daily cost of the last 7 dataset days times the days of each period, +-10 %."""
        start, end = time_period(req)
        if start >= end:
            fail(f"Requested Start: {start} must be before requested End: {end}")
        if start < ds.today:
            fail(f"Start date {start} is in the past; a forecast starts on or after {ds.today}")
        metric = req.get("Metric")
        if metric not in FORECAST_METRICS:
            fail(f"Metric {metric!r} is not valid. Valid values are {', '.join(sorted(FORECAST_METRICS))}")
        gran = granularity(req, ("DAILY", "MONTHLY"))
        level = req.get("PredictionIntervalLevel", 80)
        if not isinstance(level, int) or not 51 <= level <= 99:
            fail("PredictionIntervalLevel must be between 51 and 99")
        expr = req.get("Filter")
        if expr is not None:
            check_expression(expr)
        week = ds.select(ds.newest - 6 * ONE_DAY, ds.newest + ONE_DAY, expr)
        daily = sum((row_value(r, FORECAST_METRICS[metric]) for _, r in week), Decimal(0)) / 7
        by_time, total = [], Decimal(0)
        for a, b in buckets(start, end, gran):
            mean = daily * (b - a).days
            total += mean
            by_time.append({
                "TimePeriod": {"Start": a.isoformat(), "End": b.isoformat()},
                "MeanValue": amount(mean),
                "PredictionIntervalLowerBound": amount(mean * Decimal("0.9")),
                "PredictionIntervalUpperBound": amount(mean * Decimal("1.1")),
            })
        return {"Total": {"Amount": amount(total), "Unit": "USD"}, "ForecastResultsByTime": by_time}
