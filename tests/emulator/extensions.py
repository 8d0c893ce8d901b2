"""costwatch extensions to moto's server, as a WSGI middleware in front of it.

- Cost Explorer GetCostForecast, GetDimensionValues, GetAnomalies (moto lacks them),
  answered from seeded queues or a computed default.
- A Smithy RPCv2 CBOR front for CloudWatch: each request is transcoded to moto's
  awsJson 1.0 CloudWatch handler and the answer back to CBOR using botocore's model.
- Fault injection: the next N requests to an operation answer a throttling error.
"""

import base64
import calendar
import datetime as dt
import glob
import gzip
import importlib
import json
import os
import re
import threading

import botocore.session
import cbor2
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

PREFIX = "/costwatch-emulator"
CE_TARGET_PREFIX = "AWSInsightsIndexService."
JSON11 = "application/x-amz-json-1.1"
CBOR = "application/cbor"
CBOR_PATH = re.compile(r"/service/([^/]+)/operation/([^/]+)")
# Smithy service name in the RPCv2 path -> (botocore service, SigV4 signing name)
CBOR_SERVICES = {"GraniteServiceVersion20100801": ("cloudwatch", "monitoring")}
# seeding path segment -> Cost Explorer operation
SEEDABLE = {
    "cost-forecast": "GetCostForecast",
    "dimension-values": "GetDimensionValues",
    "anomalies": "GetAnomalies",
}
DAILY_FORECAST_USD = 10.0


class State:
    """Seeded CE results and fault counters, shared by all request threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.queues = {op: [] for op in SEEDABLE.values()}
            self.answered = {op: {} for op in SEEDABLE.values()}
            self.faults = {}

    def take_fault(self, op):
        """Consume one injected fault for `op`, if any."""
        with self.lock:
            fault = self.faults.get(op)
            if not fault or fault["count"] <= 0:
                return None
            fault["count"] -= 1
            return fault

    def ce_result(self, op, body):
        """Like moto's GetCostAndUsage: a new request body takes the next seeded
        result, the same body again gets the same one; None when nothing is seeded."""
        with self.lock:
            if body not in self.answered[op] and self.queues[op]:
                self.answered[op][body] = self.queues[op].pop(0)
            return self.answered[op].get(body)

    def snapshot(self):
        with self.lock:
            return {
                "queues": {op: len(q) for op, q in self.queues.items()},
                "faults": {op: f["count"] for op, f in self.faults.items() if f["count"] > 0},
            }


def _json(status, obj, headers=None):
    return Response(json.dumps(obj), status, headers, content_type=JSON11)


def _json_error(status, code, message):
    body = {"__type": code, "message": message}
    return _json(status, body, {"x-amzn-ErrorType": code})


def _cbor_error(status, code, message, query_error=None):
    headers = {"smithy-protocol": "rpc-v2-cbor"}
    if query_error:
        headers["x-amzn-query-error"] = query_error
    body = cbor2.dumps({"__type": code, "message": message})
    return Response(body, status, headers, content_type=CBOR)


# ---- Cost Explorer defaults -------------------------------------------------


def _period(req):
    """The request's TimePeriod as dates; default: today to the 1st of next month."""
    tp = req.get("TimePeriod") or {}
    today = dt.date.today()
    start = dt.date.fromisoformat(tp["Start"]) if "Start" in tp else today
    if "End" in tp:
        return start, dt.date.fromisoformat(tp["End"])
    return start, (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _buckets(start, end, granularity):
    """Split [start, end) into DAILY days or MONTHLY calendar-month pieces."""
    while start < end:
        if granularity == "DAILY":
            nxt = start + dt.timedelta(days=1)
        else:
            nxt = min(end, (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1))
        yield start, nxt
        start = nxt


def _default_forecast(req):
    """A flat DAILY_FORECAST_USD a day, with a +-10 % prediction interval."""
    start, end = _period(req)
    unit = "USD"
    by_time, total = [], 0.0
    for a, b in _buckets(start, end, req.get("Granularity", "MONTHLY")):
        mean = DAILY_FORECAST_USD * (b - a).days
        total += mean
        by_time.append({
            "TimePeriod": {"Start": a.isoformat(), "End": b.isoformat()},
            "MeanValue": f"{mean:.2f}",
            "PredictionIntervalLowerBound": f"{mean * 0.9:.2f}",
            "PredictionIntervalUpperBound": f"{mean * 1.1:.2f}",
        })
    return {"Total": {"Amount": f"{total:.2f}", "Unit": unit}, "ForecastResultsByTime": by_time}


DEFAULTS = {
    "GetCostForecast": _default_forecast,
    "GetDimensionValues": lambda req: {"DimensionValues": [], "ReturnSize": 0, "TotalSize": 0},
    "GetAnomalies": lambda req: {"Anomalies": []},
}


# ---- CBOR <-> JSON transcoding ------------------------------------------------


def _epoch(value):
    """Epoch seconds from a datetime, a number or an ISO 8601 string."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return calendar.timegm(value.utctimetuple()) + value.microsecond / 1e6


def cbor_to_json(value):
    """A decoded CBOR request as the equivalent awsJson document."""
    if isinstance(value, dict):
        return {k: cbor_to_json(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [cbor_to_json(v) for v in value]
    if isinstance(value, dt.datetime):
        return _epoch(value)
    if isinstance(value, cbor2.CBORTag) and value.tag == 1:
        return float(value.value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def json_to_cbor(value, shape):
    """An awsJson value as the CBOR data item RPCv2 wants for `shape`."""
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        return {
            k: json_to_cbor(v, shape.members[k])
            for k, v in value.items()
            if k in shape.members and v is not None
        }
    if kind == "list":
        return [json_to_cbor(v, shape.member) for v in value]
    if kind == "map":
        return {k: json_to_cbor(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        return cbor2.CBORTag(1, _epoch(value))
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind == "blob":
        return base64.b64decode(value)
    return value


# ---- the middleware -------------------------------------------------------------


def load_services(ext):
    """The emulated services of the `ext_*.py` modules beside this file, in name order.

    Each module defines `Service(ext)` with `route(environ)` (a werkzeug Response for the
    requests it takes, else None; it sees a request before moto and before the built-in
    extensions, after injected faults) and `reset()` (called by both reset endpoints).
    """
    here = os.path.dirname(os.path.abspath(__file__))
    services = []
    for path in sorted(glob.glob(os.path.join(here, "ext_*.py"))):
        module = importlib.import_module(os.path.basename(path)[:-3])
        services.append(module.Service(ext))
    return services



class Extensions:
    """WSGI middleware: handles costwatch paths and targets, delegates the rest to moto."""

    def __init__(self, app):
        self.app = app
        self.state = State()
        self.models = {}
        self.models_lock = threading.Lock()
        self.services = load_services(self)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        cbor_match = CBOR_PATH.fullmatch(path)
        op = target.rpartition(".")[2]
        fault = self.state.take_fault(op) if target else None
        resp = None if fault else self.route_services(environ)
        if resp is not None:
            return resp(environ, start_response)
        if fault:
            resp = _json_error(
                fault["status"], fault["code"] or "ThrottlingException", fault["message"]
            )
        elif path.startswith(PREFIX + "/"):
            resp = self.control(Request(environ), path[len(PREFIX):])
        elif cbor_match and cbor_match.group(1) in CBOR_SERVICES:
            resp = self.cbor(Request(environ), *cbor_match.groups())
        elif target.startswith(CE_TARGET_PREFIX) and op in DEFAULTS:
            resp = self.cost_explorer(Request(environ), op)
        else:
            if path == "/moto-api/reset":
                self.reset_all()
            return self.app(environ, start_response)
        return resp(environ, start_response)

    def route_services(self, environ):
        """The answer of the first `ext_*.py` service that takes this request, if any."""
        for service in self.services:
            resp = service.route(environ)
            if resp is not None:
                return resp
        return None

    def reset_all(self):
        self.state.reset()
        for service in self.services:
            service.reset()

    def control(self, req, path):
        """POST /ce/<name>-results, /throttle, /reset; GET /state."""
        if req.method == "GET" and path == "/state":
            return _json(200, self.state.snapshot())
        body = req.get_json(force=True, silent=True) or {}
        m = re.fullmatch(r"/ce/([a-z-]+)-results", path)
        if req.method == "POST" and m and m.group(1) in SEEDABLE:
            with self.state.lock:
                self.state.queues[SEEDABLE[m.group(1)]].extend(body.get("results", []))
            return _json(201, {})
        if req.method == "POST" and path == "/throttle":
            if not body.get("target"):
                return _json(400, {"message": 'expected {"target": "<Operation>", "count": N}'})
            fault = {
                "count": int(body.get("count", 1)),
                "status": int(body.get("status", 400)),
                "code": body.get("code"),
                "message": body.get("message", "Rate exceeded"),
            }
            with self.state.lock:
                self.state.faults[body["target"]] = fault
            return _json(200, {})
        if req.method == "POST" and path == "/reset":
            self.reset_all()
            return _json(200, {})
        return _json(404, {"message": f"no such costwatch-emulator endpoint: {req.method} {path}"})

    def cost_explorer(self, req, op):
        raw = req.get_data(as_text=True)
        result = self.state.ce_result(op, raw)
        if result is None:
            result = DEFAULTS[op](json.loads(raw or "{}"))
        return _json(200, result)

    def model(self, service):
        with self.models_lock:
            if service not in self.models:
                self.models[service] = botocore.session.get_session().get_service_model(service)
            return self.models[service]

    def cbor(self, req, smithy_service, op):
        """Serve one RPCv2 CBOR request through moto's awsJson 1.0 handler."""
        service, signing_name = CBOR_SERVICES[smithy_service]
        fault = self.state.take_fault(op)
        if fault:
            code = fault["code"] or "Throttling"
            return _cbor_error(fault["status"], code, fault["message"], f"{code};Sender")
        model = self.model(service)
        if op not in model.operation_names:
            return _cbor_error(404, "UnknownOperationException", f"unknown operation {op}")
        try:
            data = req.get_data()
            if "gzip" in req.headers.get("Content-Encoding", ""):
                data = gzip.decompress(data)  # PutMetricData has @requestCompression
            params = cbor_to_json(cbor2.loads(data)) if data else {}
        except Exception as exc:  # malformed CBOR or gzip
            return _cbor_error(400, "SerializationException", str(exc))
        auth = req.headers.get("Authorization") or (
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/"
            f"{signing_name}/aws4_request, SignedHeaders=host, Signature=0"
        )
        environ = EnvironBuilder(
            path="/",
            method="POST",
            data=json.dumps(params),
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": f"{smithy_service}.{op}",
                "Authorization": auth,
                "Host": req.host,
            },
        ).get_environ()
        status, headers, body = self._call_moto(environ)
        if status >= 300:
            try:
                err = json.loads(body or b"{}")
            except ValueError:
                err = {}
            code = (err.get("__type") or headers.get("x-amzn-errortype") or "InternalFailure")
            code = code.split(":")[0].rpartition("#")[2]
            message = err.get("message") or err.get("Message") or body.decode(errors="replace")
            return _cbor_error(status, code, message, headers.get("x-amzn-query-error"))
        output_shape = model.operation_model(op).output_shape
        out = b""
        if output_shape is not None:
            out = cbor2.dumps(json_to_cbor(json.loads(body or b"{}"), output_shape))
        return Response(out, 200, {"smithy-protocol": "rpc-v2-cbor"}, content_type=CBOR)

    def _call_moto(self, environ):
        """Run a request through moto's app; (status, lower-cased headers, body)."""
        seen = {}

        def start_response(status, headers, exc_info=None):
            seen["status"] = int(status.split()[0])
            seen["headers"] = {k.lower(): v for k, v in headers}

        chunks = self.app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return seen["status"], seen["headers"], body
