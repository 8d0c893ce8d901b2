"""Self-check of the test peers: starts moto_peer.py and smtp_sink.py, exercises every
extension over raw HTTP and through boto3/botocore, sends mail with smtplib.

Run: .venv/bin/python tests/emulator/check_emulator.py   (exit status 0 = all good)
"""

import datetime as dt
import gzip
import json
import os
import signal
import smtplib
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from email.message import EmailMessage

import boto3
import botocore.config
import botocore.exceptions
import botocore.model
import cbor2

HERE = os.path.dirname(os.path.abspath(__file__))
CW_PATH = "/service/GraniteServiceVersion20100801/operation/"
FAKE_AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/monitoring/aws4_request, "
    "SignedHeaders=host, Signature=0"
)
for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
             "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}.items():
    os.environ[k] = v


def start(script, *args):
    """Start a peer with stdin as a pipe; return (process, port) once it prints READY."""
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, script), *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    line = proc.stdout.readline().decode()
    assert line.startswith("READY "), f"{script}: unexpected first line {line!r}"
    return proc, int(line.split()[1])


def stopped(proc, how):
    """Stop a peer by closing stdin or by SIGTERM; True when it exits within 10 s."""
    if how == "eof":
        proc.stdin.close()
    else:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(10) == 0
    except subprocess.TimeoutExpired:
        proc.kill()
        return False


def http(port, path, body=b"", headers=None, method="POST"):
    """Raw HTTP to 127.0.0.1; returns (status, headers, body) also for 4xx/5xx."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body if method == "POST" else None,
                                 headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def rust_cbor(v):
    """Encode like aws-smithy-cbor: indefinite maps/arrays, timestamps as tag 1 + double."""
    if isinstance(v, dict):
        return b"\xbf" + b"".join(cbor2.dumps(k) + rust_cbor(x) for k, x in v.items()) + b"\xff"
    if isinstance(v, list):
        return b"\x9f" + b"".join(rust_cbor(x) for x in v) + b"\xff"
    if isinstance(v, dt.datetime):
        return b"\xc1" + struct.pack(">Bd", 0xFB, v.timestamp())
    return cbor2.dumps(v)


def cw_raw(port, op, params, gzipped=False):
    """A CloudWatch call as the Rust SDK sends it; returns (status, headers, decoded body)."""
    body = rust_cbor(params)
    headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
               "Accept": "application/cbor", "x-amzn-query-mode": "true", "Authorization": FAKE_AUTH}
    if gzipped:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    status, h, raw = http(port, CW_PATH + op, body, headers)
    assert h["smithy-protocol"] == "rpc-v2-cbor" and h["Content-Type"] == "application/cbor", dict(h)
    if status == 200 and raw:
        assert b"\xc1\xfb" in raw or b"\xc1" not in raw, "timestamps must be tag 1 + double"
    return status, h, (cbor2.loads(raw) if raw else None)


def clients(port):
    cfg = botocore.config.Config(retries={"total_max_attempts": 1})
    kw = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", config=cfg)
    ce = boto3.client("ce", **kw)
    saved = botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS
    botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = ("smithy-rpc-v2-cbor",) + saved
    try:  # botocore's own RPCv2 CBOR client, a second implementation of the protocol
        cw = boto3.client("cloudwatch", **kw)
    finally:
        botocore.model.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS = saved
    assert cw.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
    return ce, cw


def error_code(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError("expected an error")


def check_cost_explorer(port, ce):
    tp = {"Start": "2026-01-10", "End": "2026-03-05"}
    forecast = ce.get_cost_forecast(TimePeriod=tp, Metric="UNBLENDED_COST", Granularity="MONTHLY")
    assert forecast["Total"] == {"Amount": "540.00", "Unit": "USD"}, forecast["Total"]
    assert [r["TimePeriod"]["Start"] for r in forecast["ForecastResultsByTime"]] == [
        "2026-01-10", "2026-02-01", "2026-03-01"]
    daily = ce.get_cost_forecast(TimePeriod=tp, Metric="UNBLENDED_COST", Granularity="DAILY")
    assert len(daily["ForecastResultsByTime"]) == 54

    seeded = [{"Total": {"Amount": str(n), "Unit": "USD"}, "ForecastResultsByTime": []} for n in (1, 2)]
    assert http(port, "/costwatch-emulator/ce/cost-forecast-results", {"results": seeded})[0] == 201
    first = ce.get_cost_forecast(TimePeriod=tp, Metric="NET_AMORTIZED_COST", Granularity="MONTHLY")
    again = ce.get_cost_forecast(TimePeriod=tp, Metric="NET_AMORTIZED_COST", Granularity="MONTHLY")
    second = ce.get_cost_forecast(TimePeriod=tp, Metric="BLENDED_COST", Granularity="MONTHLY")
    assert (first["Total"]["Amount"], again["Total"]["Amount"], second["Total"]["Amount"]) == ("1", "1", "2")

    dims = ce.get_dimension_values(TimePeriod=tp, Dimension="SERVICE")
    assert dims["DimensionValues"] == [] and dims["ReturnSize"] == 0
    values = {"DimensionValues": [{"Value": "Amazon S3", "Attributes": {}}], "ReturnSize": 1, "TotalSize": 1}
    http(port, "/costwatch-emulator/ce/dimension-values-results", {"results": [values]})
    dims = ce.get_dimension_values(TimePeriod=tp, Dimension="LINKED_ACCOUNT")
    assert dims["DimensionValues"][0]["Value"] == "Amazon S3"
    assert ce.get_anomalies(DateInterval={"StartDate": "2026-01-01"})["Anomalies"] == []

    # moto's own seeding still works behind the middleware
    usage = {"ResultsByTime": [{"TimePeriod": tp, "Total": {"UnblendedCost": {"Amount": "7", "Unit": "USD"}},
                                "Groups": [], "Estimated": False}], "DimensionValueAttributes": []}
    assert http(port, "/moto-api/static/ce/cost-and-usage-results", {"results": [usage]})[0] == 201
    got = ce.get_cost_and_usage(TimePeriod=tp, Granularity="MONTHLY", Metrics=["UnblendedCost"])
    assert got["ResultsByTime"][0]["Total"]["UnblendedCost"]["Amount"] == "7"

    # throttling, JSON 1.1
    http(port, "/costwatch-emulator/throttle", {"target": "GetCostAndUsage", "count": 2})
    status, h, body = http(port, "/", b"{}", {"Content-Type": "application/x-amz-json-1.1",
                                              "X-Amz-Target": "AWSInsightsIndexService.GetCostAndUsage"})
    assert status == 400 and json.loads(body) == {"__type": "ThrottlingException", "message": "Rate exceeded"}
    call = lambda: ce.get_cost_and_usage(TimePeriod=tp, Granularity="MONTHLY", Metrics=["UnblendedCost"])
    assert error_code(call) == "ThrottlingException"
    assert call()["ResultsByTime"][0]["Total"]["UnblendedCost"]["Amount"] == "7"
    http(port, "/costwatch-emulator/throttle", {"target": "GetCostForecast", "count": 1})
    assert error_code(lambda: ce.get_cost_forecast(TimePeriod=tp, Metric="UNBLENDED_COST",
                                                   Granularity="MONTHLY")) == "ThrottlingException"

    # reset clears queues and faults; so does moto's reset
    http(port, "/costwatch-emulator/ce/cost-forecast-results", {"results": seeded})
    http(port, "/costwatch-emulator/throttle", {"target": "GetDimensionValues", "count": 5})
    assert json.loads(http(port, "/costwatch-emulator/state", method="GET")[2])["faults"] == {"GetDimensionValues": 5}
    assert http(port, "/costwatch-emulator/reset")[0] == 200
    assert json.loads(http(port, "/costwatch-emulator/state", method="GET")[2]) == {
        "queues": {"GetCostForecast": 0, "GetDimensionValues": 0, "GetAnomalies": 0}, "faults": {}}
    http(port, "/costwatch-emulator/throttle", {"target": "GetDimensionValues", "count": 5})
    assert http(port, "/moto-api/reset")[0] == 200
    ce.get_dimension_values(TimePeriod=tp, Dimension="SERVICE")


def check_cloudwatch(port, cw):
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    dims = [{"Name": "Currency", "Value": "USD"}]
    metric = {"Namespace": "AWS/Billing", "MetricName": "EstimatedCharges", "Dimensions": dims}
    status, _, body = cw_raw(port, "PutMetricData", {"Namespace": "AWS/Billing", "MetricData": [
        {"MetricName": "EstimatedCharges", "Dimensions": dims, "Timestamp": now - dt.timedelta(hours=3), "Value": 10.0},
        {"MetricName": "EstimatedCharges", "Dimensions": dims, "Timestamp": now - dt.timedelta(hours=2), "Value": 12.5},
    ]})
    assert status == 200 and body is None
    status, _, _ = cw_raw(port, "PutMetricData", {"Namespace": "AWS/Billing", "MetricData": [
        {"MetricName": "EstimatedCharges", "Dimensions": dims, "Timestamp": now - dt.timedelta(hours=1), "Value": 15}]},
        gzipped=True)
    assert status == 200

    status, _, body = cw_raw(port, "ListMetrics", {"Namespace": "AWS/Billing"})
    assert status == 200 and body["Metrics"] == [metric], body

    window = {"StartTime": now - dt.timedelta(days=1), "EndTime": now}
    status, _, body = cw_raw(port, "GetMetricStatistics", {
        **metric, **window, "Period": 86400, "Statistics": ["Maximum", "SampleCount"]})
    assert status == 200, body
    (point,) = body["Datapoints"]
    assert point["Maximum"] == 15.0 and point["SampleCount"] == 3.0 and isinstance(point["Timestamp"], dt.datetime)

    query = {"Id": "m1", "MetricStat": {"Metric": metric, "Period": 3600, "Stat": "Maximum"}}
    status, _, body = cw_raw(port, "GetMetricData", {"MetricDataQueries": [query], **window,
                                                    "ScanBy": "TimestampAscending"})
    (result,) = body["MetricDataResults"]
    assert status == 200 and result["Values"] == [10.0, 12.5, 15.0], body
    assert all(isinstance(t, dt.datetime) for t in result["Timestamps"])

    # the same through botocore's CBOR client
    assert cw.list_metrics(Namespace="AWS/Billing")["Metrics"] == [metric]
    got = cw.get_metric_data(MetricDataQueries=[query], **window)
    assert sorted(got["MetricDataResults"][0]["Values"]) == [10.0, 12.5, 15.0]
    cw.put_metric_data(Namespace="Costwatch", MetricData=[{"MetricName": "Spend", "Value": 1.0}])
    assert error_code(lambda: cw.get_metric_statistics(**metric, **window, Period=60)) == "InvalidParameterCombination"

    # errors: moto's validation, unknown operation, injected throttling
    status, h, body = cw_raw(port, "GetMetricStatistics", {**metric, **window, "Period": 60})
    assert status == 400 and body["__type"] == "InvalidParameterCombinationException", body
    assert h["x-amzn-query-error"] == "InvalidParameterCombination;Sender"  # code the SDKs report
    status, _, body = cw_raw(port, "NoSuchOperation", {})
    assert status == 404 and body["__type"] == "UnknownOperationException"
    http(port, "/costwatch-emulator/throttle", {"target": "GetMetricData", "count": 2})
    status, h, body = cw_raw(port, "GetMetricData", {"MetricDataQueries": [query], **window})
    assert status == 400 and body["__type"] == "Throttling" and h["x-amzn-query-error"] == "Throttling;Sender"
    assert error_code(lambda: cw.get_metric_data(MetricDataQueries=[query], **window)) == "Throttling"
    assert cw_raw(port, "GetMetricData", {"MetricDataQueries": [query], **window})[0] == 200


def check_smtp(maildir):
    sink, port = start("smtp_sink.py", "--maildir", maildir)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "costwatch@example.test", "ops@example.test", "digest"
    msg.set_content("spend is up\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.login("costwatch", "any-password")
        s.send_message(msg, to_addrs=["ops@example.test", "bcc@example.test"])
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.send_message(msg)  # unauthenticated
        try:
            s.login("someone-else", "pw")
            raise AssertionError("login as another user must fail")
        except smtplib.SMTPAuthenticationError:
            pass
    assert sorted(os.listdir(maildir)) == ["000001.eml", "000002.eml"], os.listdir(maildir)
    first = open(os.path.join(maildir, "000001.eml"), "rb").read()
    assert first.startswith(b"Return-Path: <costwatch@example.test>\r\nDelivered-To: ops@example.test\r\n")
    assert b"Subject: digest\r\n" in first and first.endswith(b"spend is up\r\n")
    assert stopped(sink, "term")

    rejecting, port = start("smtp_sink.py", "--maildir", maildir, "--reject")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        try:
            s.send_message(msg)
            raise AssertionError("--reject must refuse recipients")
        except smtplib.SMTPRecipientsRefused as e:
            assert e.recipients["ops@example.test"][0] == 451
    assert len(os.listdir(maildir)) == 2
    assert stopped(rejecting, "eof")


def port_closed(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def main():
    moto, port = start("moto_peer.py")
    try:
        ce, cw = clients(port)
        check_cost_explorer(port, ce)
        print("ok: Cost Explorer forecast/dimension values/anomalies, seeding, throttling, reset")
        check_cloudwatch(port, cw)
        print("ok: CloudWatch RPCv2 CBOR (raw and botocore), errors, throttling")
    finally:
        assert stopped(moto, "eof"), "moto peer did not exit on stdin EOF"
    assert port_closed(port)
    moto, port = start("moto_peer.py", "--port", "0")
    assert stopped(moto, "term") and port_closed(port)
    print("ok: moto peer exits on stdin EOF and on SIGTERM")
    with tempfile.TemporaryDirectory() as maildir:
        check_smtp(maildir)
    print("ok: SMTP sink (auth, no auth, bad user, --reject, atomic .eml files)")


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"all checks passed in {time.monotonic() - t0:.1f}s")
