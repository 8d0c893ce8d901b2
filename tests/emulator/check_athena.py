"""Self-check of the Athena emulator (ext_athena.py): starts moto_peer.py and runs real
queries through boto3's athena (REST-JSON), glue and s3 clients, and raw JSON 1.1.

Run: cd tests/emulator && ../../.venv/bin/python check_athena.py   (exit status 0 = all good)
"""

import gzip
import json
import os
import tempfile
import time

import boto3
import botocore.config
import botocore.exceptions
import duckdb

from check_emulator import HERE, http, start, stopped

CUR_SAMPLE = os.path.join(HERE, "../../../shared/samples/wal_Oct2018-WorkshopCUR-00001.snappy.parquet")
RESULTS = "s3://athena-results/queries/"
PARQUET = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
}
PERIOD_KEY = [{"Name": "billing_period", "Type": "string"}]
# the two billing periods of the `billing.costs` table: (service, usage day, cost)
COSTS = {
    "2026-02": [("AmazonEC2", "2026-02-01", 10.0), ("AmazonS3", "2026-02-01", 1.25)],
    "2026-03": [("AmazonEC2", "2026-03-01", 12.5), ("AmazonEC2", "2026-03-02", 7.5),
                ("AmazonS3", "2026-03-01", 2.0), ("AWSLambda", "2026-03-02", 0.5)],
}
GLUE_TYPES = {"VARCHAR": "string", "DOUBLE": "double", "TIMESTAMP": "timestamp"}  # the CUR sample's
JSON11_AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/athena/aws4_request, "
               "SignedHeaders=host, Signature=0")


def clients(port):
    cfg = botocore.config.Config(retries={"total_max_attempts": 1})
    kw = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", config=cfg,
              aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client("athena", **kw), boto3.client("glue", **kw), boto3.client("s3", **kw)


def error(call):
    """(code, message) of a call that must fail."""
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("expected an error")


def start_query(athena, sql, db="billing", **kw):
    return athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": db},
        ResultConfiguration={"OutputLocation": RESULTS}, **kw)["QueryExecutionId"]


def wait(athena, qid):
    """Poll until the query ends; (QueryExecution, the states seen)."""
    states = []
    while not states or states[-1] in ("QUEUED", "RUNNING"):
        assert len(states) < 10, states
        execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        states.append(execution["Status"]["State"])
    return execution, states


def run(athena, sql, db="billing", **kw):
    return wait(athena, start_query(athena, sql, db, **kw))


def cells(page):
    """A GetQueryResults page's rows as lists of VarCharValue (None for NULL)."""
    return [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]


def rows(athena, qid, **kw):
    """Every row of every page, the header first."""
    pages = athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid, **kw)
    return [row for page in pages for row in cells(page)]


def scanned(execution):
    return execution["Statistics"]["DataScannedInBytes"]


def setup_costs(s3, glue, tmp):
    """Buckets, one Parquet file per period (written by DuckDB), the Glue database and
    partitioned table; the files' sizes by period."""
    s3.create_bucket(Bucket="cur")
    s3.create_bucket(Bucket="athena-results")
    con = duckdb.connect()
    sizes = {}
    for period, items in COSTS.items():
        path = os.path.join(tmp, f"{period}.parquet")
        values = ", ".join(f"('{s}', DATE '{d}', {c})" for s, d, c in items)
        con.execute(f"COPY (SELECT * FROM (VALUES {values}) AS t(service, usage_date, cost)) "
                    f"TO '{path}' (FORMAT parquet)")
        with open(path, "rb") as f:
            s3.put_object(Bucket="cur", Key=f"costs/billing_period={period}/part-0.parquet", Body=f.read())
        sizes[period] = os.path.getsize(path)
    s3.put_object(Bucket="cur", Key="costs/_SUCCESS", Body=b"")  # skipped, as Athena does
    glue.create_database(DatabaseInput={"Name": "billing"})
    columns = [{"Name": "service", "Type": "string"}, {"Name": "usage_date", "Type": "date"},
               {"Name": "cost", "Type": "double"}]
    glue.create_table(DatabaseName="billing", TableInput={
        "Name": "costs", "TableType": "EXTERNAL_TABLE", "PartitionKeys": PERIOD_KEY,
        "StorageDescriptor": {"Columns": columns, "Location": "s3://cur/costs/", **PARQUET}})
    glue.batch_create_partition(DatabaseName="billing", TableName="costs", PartitionInputList=[
        {"Values": [p], "StorageDescriptor": {"Location": f"s3://cur/costs/billing_period={p}/"}}
        for p in COSTS])
    return sizes


def check_query(athena, s3, sizes):
    sql = ("SELECT service, sum(cost) AS cost, count(*) AS n FROM costs "
           "WHERE billing_period = '2026-03' GROUP BY service ORDER BY service")
    execution, states = run(athena, sql)
    assert states == ["QUEUED", "RUNNING", "SUCCEEDED"], (states, execution["Status"])
    qid = execution["QueryExecutionId"]
    stats = execution["Statistics"]
    assert scanned(execution) == sizes["2026-03"], (stats, sizes)
    assert stats["TotalExecutionTimeInMillis"] >= stats["EngineExecutionTimeInMillis"] >= 0
    location = execution["ResultConfiguration"]["OutputLocation"]
    assert location == f"{RESULTS}{qid}.csv", location
    expected = [["service", "cost", "n"], ["AWSLambda", "0.5", "1"], ["AmazonEC2", "20.0", "2"],
                ["AmazonS3", "2.0", "1"]]
    assert rows(athena, qid) == expected, rows(athena, qid)
    first = athena.get_query_results(QueryExecutionId=qid)
    info = first["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in info] == [("service", "varchar"), ("cost", "double"), ("n", "bigint")]
    assert "NextToken" not in first

    # pagination: the header takes a row of the first page
    page1 = athena.get_query_results(QueryExecutionId=qid, MaxResults=2)
    page2 = athena.get_query_results(QueryExecutionId=qid, MaxResults=2, NextToken=page1["NextToken"])
    assert cells(page1) == expected[:2] and cells(page2) == expected[2:] and "NextToken" not in page2
    assert rows(athena, qid, PaginationConfig={"PageSize": 2}) == expected
    too_many = error(lambda: athena.get_query_results(QueryExecutionId=qid, MaxResults=1001))
    assert too_many[0] == "InvalidRequestException"

    # the result files in S3
    key = f"queries/{qid}.csv"
    csv = s3.get_object(Bucket="athena-results", Key=key)["Body"].read().decode()
    assert csv == "".join(",".join(f'"{v}"' for v in row) + "\n" for row in expected), csv
    s3.head_object(Bucket="athena-results", Key=key + ".metadata")

    # bytes scanned without the partition filter, with filters pruning cannot use, with none left
    everything, _ = run(athena, "SELECT sum(cost) AS total FROM billing.costs")
    assert scanned(everything) == sum(sizes.values()) > sizes["2026-03"]
    assert rows(athena, everything["QueryExecutionId"])[1] == ["33.75"]
    either, _ = run(athena, "SELECT count(*) AS n FROM costs "
                            "WHERE billing_period = '2026-03' OR service = 'AmazonS3'")
    assert scanned(either) == sum(sizes.values()) and rows(athena, either["QueryExecutionId"])[1] == ["5"]
    both, _ = run(athena, "SELECT count(*) AS n FROM costs WHERE billing_period IN ('2026-02', '2026-03')")
    assert scanned(both) == sum(sizes.values())
    none, _ = run(athena, "SELECT count(*) AS n FROM costs WHERE billing_period = '2025-01'")
    assert scanned(none) == 0 and rows(athena, none["QueryExecutionId"])[1] == ["0"]
    twice, _ = run(athena, "SELECT count(*) AS n FROM costs a JOIN billing.costs b ON a.service = b.service "
                           "WHERE a.billing_period = '2026-03' AND b.billing_period IN ('2026-03')")
    assert scanned(twice) == sizes["2026-03"] and rows(athena, twice["QueryExecutionId"])[1] == ["6"]
    return qid


def check_failures(athena, port):
    execution, states = run(athena, "SELECT nosuchcolumn FROM costs")
    status = execution["Status"]
    assert states[-1] == "FAILED" and status["StateChangeReason"].startswith("SYNTAX_ERROR: "), status
    assert "nosuchcolumn" in status["StateChangeReason"] and status["AthenaError"]["ErrorCategory"] == 2
    assert scanned(execution) == 0
    code, message = error(lambda: athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"]))
    assert code == "InvalidRequestException" and "FAILED" in message, message
    missing, _ = run(athena, "SELECT * FROM nosuchtable")
    assert missing["Status"]["StateChangeReason"].startswith("TABLE_NOT_FOUND"), missing["Status"]

    boom = {"reason": "GENERIC_INTERNAL_ERROR: boom", "retryable": True}
    assert http(port, "/costwatch-emulator/athena/fail-next", boom)[0] == 200
    failed, _ = run(athena, "SELECT 1 AS one")
    assert failed["Status"]["StateChangeReason"] == boom["reason"]
    assert failed["Status"]["AthenaError"] == {"ErrorCategory": 1, "Retryable": True, "ErrorMessage": boom["reason"]}
    assert run(athena, "SELECT 1 AS one")[1][-1] == "SUCCEEDED"

    # stopping before it finished
    qid = start_query(athena, "SELECT 1 AS one")
    assert athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"] == "QUEUED"
    message = error(lambda: athena.get_query_results(QueryExecutionId=qid))[1]
    assert message == "Query has not yet finished. Current state: QUEUED", message
    athena.stop_query_execution(QueryExecutionId=qid)
    cancelled, states = wait(athena, qid)
    assert states == ["CANCELLED"] and cancelled["Status"]["CompletionDateTime"]

    no_output = lambda: athena.start_query_execution(QueryString="SELECT 1")  # no OutputLocation anywhere
    assert error(no_output)[0] == "InvalidRequestException"
    http(port, "/costwatch-emulator/throttle", {"target": "GetQueryExecution", "count": 1})
    assert error(lambda: athena.get_query_execution(QueryExecutionId=qid))[0] == "ThrottlingException"


def check_json11(athena, port):
    """The lifecycle in JSON 1.1 (X-Amz-Target), and moto still serving the operations left to it."""
    def call(op, body):
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AmazonAthena.{op}",
                   "Authorization": JSON11_AUTH}
        status, h, raw = http(port, "/", body, headers)
        return status, h, json.loads(raw)

    _, _, started = call("StartQueryExecution", {
        "QueryString": "SELECT service, cost FROM costs WHERE billing_period = ? ORDER BY cost DESC LIMIT 1",
        "ExecutionParameters": ["'2026-03'"], "QueryExecutionContext": {"Database": "billing"},
        "ResultConfiguration": {"OutputLocation": RESULTS}})
    qid = started["QueryExecutionId"]
    states = [call("GetQueryExecution", {"QueryExecutionId": qid})[2]["QueryExecution"]["Status"]["State"]
              for _ in range(3)]
    assert states == ["QUEUED", "RUNNING", "SUCCEEDED"], states
    _, _, page = call("GetQueryResults", {"QueryExecutionId": qid, "MaxResults": 1})
    assert cells(page) == [["service", "cost"]] and page["NextToken"], page
    _, _, page = call("GetQueryResults", {"QueryExecutionId": qid, "NextToken": page["NextToken"]})
    assert cells(page) == [["AmazonEC2", "12.5"]], page
    assert call("GetWorkGroup", {"WorkGroup": "primary"})[2]["WorkGroup"]["Name"] == "primary"  # moto's
    status, headers, body = call("GetQueryExecution", {"QueryExecutionId": "nope"})
    assert status == 400 and headers["x-amzn-RequestId"] and body == {"__type": "InvalidRequestException", "AthenaErrorCode": "INVALID_INPUT",
                                      "Message": "QueryExecution nope was not found"}, body

    # REST-JSON operations this module leaves to moto: a work group with its own output location
    athena.create_work_group(Name="costwatch", Configuration={
        "ResultConfiguration": {"OutputLocation": "s3://athena-results/wg"}, "EnforceWorkGroupConfiguration": True})
    assert athena.get_work_group(WorkGroup="costwatch")["WorkGroup"]["Name"] == "costwatch"
    qid = athena.start_query_execution(QueryString="SELECT 1 AS one", WorkGroup="costwatch")["QueryExecutionId"]
    execution, _ = wait(athena, qid)
    assert execution["ResultConfiguration"]["OutputLocation"] == f"s3://athena-results/wg/{qid}.csv"
    assert execution["WorkGroup"] == "costwatch"
    assert athena.list_query_executions(WorkGroup="costwatch")["QueryExecutionIds"] == [qid]
    no_group = lambda: athena.start_query_execution(QueryString="SELECT 1", WorkGroup="nope")
    assert error(no_group)[0] == "InvalidRequestException"


def check_lifecycle_and_sql(athena, port):
    config = http(port, "/costwatch-emulator/athena/config", {"polls_to_finish": 0})[2]
    assert json.loads(config) == {"polls_to_finish": 0}
    sql = ("SELECT date_format(TIMESTAMP '2026-03-04 05:06:07', '%Y-%m-%d %H:%i:%s') AS f, "
           "date_trunc('month', TIMESTAMP '2026-03-04 05:06:07') AS m, "
           "date_trunc('month', DATE '2026-03-04') AS d, 7 / 2 AS q, 1e-4 AS small, 12345678.5e0 AS big, "
           "CAST(NULL AS varchar) AS nothing, ? AS p, element_at(MAP(ARRAY['k'], ARRAY['v']), 'k') AS v, "
           "element_at(MAP(ARRAY['k'], ARRAY['v']), 'x') AS x -- what? '?'")
    execution, states = run(athena, sql, ExecutionParameters=["'x''s'"])
    assert states == ["SUCCEEDED"], execution["Status"]
    first = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    assert cells(first)[1] == ["2026-03-04 05:06:07", "2026-03-01 00:00:00.000", "2026-03-01", "3", "1.0E-4",
                               "1.23456785E7", None, "x's", "v", None], cells(first)
    assert [c["Type"] for c in first["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]] == [
        "varchar", "timestamp", "date", "integer", "double", "double", "varchar", "varchar", "varchar",
        "varchar"]
    http(port, "/costwatch-emulator/athena/config", {"polls_to_finish": 1})
    assert run(athena, "SELECT 1 AS one")[1] == ["QUEUED", "SUCCEEDED"]
    http(port, "/costwatch-emulator/athena/config", {"polls_to_finish": 2})

    # idempotency token: the same request is the same query
    kw = dict(QueryString="SELECT 2 AS two", ResultConfiguration={"OutputLocation": RESULTS},
              ClientRequestToken="t" * 32)
    first = athena.start_query_execution(**kw)["QueryExecutionId"]
    assert athena.start_query_execution(**kw)["QueryExecutionId"] == first
    changed = lambda: athena.start_query_execution(**{**kw, "QueryString": "SELECT 3"})
    assert error(changed)[0] == "InvalidRequestException"
    assert athena.list_query_executions(WorkGroup="primary")["QueryExecutionIds"][0] == first
    batch = athena.batch_get_query_execution(QueryExecutionIds=[first, "nope"])
    assert [q["QueryExecutionId"] for q in batch["QueryExecutions"]] == [first]
    assert batch["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "nope"


def check_catalog(athena, glue):
    kw = dict(CatalogName="AwsDataCatalog", DatabaseName="billing")
    meta = athena.get_table_metadata(TableName="costs", **kw)["TableMetadata"]
    assert [c["Name"] for c in meta["Columns"]] == ["service", "usage_date", "cost"]
    assert meta["PartitionKeys"] == PERIOD_KEY and meta["Parameters"]["location"] == "s3://cur/costs/"
    assert [t["Name"] for t in athena.list_table_metadata(**kw)["TableMetadataList"]] == ["costs"]
    databases = athena.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]
    assert "billing" in [d["Name"] for d in databases]
    assert athena.get_database(**kw)["Database"]["Name"] == "billing"
    assert error(lambda: athena.get_table_metadata(TableName="x", **kw))[0] == "MetadataException"
    partitions = glue.get_partitions(DatabaseName="billing", TableName="costs")["Partitions"]  # moto's Glue
    assert sorted(p["Values"][0] for p in partitions) == sorted(COSTS)


def check_csv_table(athena, glue, s3, sizes):
    """A gzipped CSV table (text SerDe, header skipped, typed by position), joined with Parquet."""
    body = gzip.compress(b"service,cost\nAmazonEC2,1.5\nAmazonS3,\\N\nAmazonEC2,2\n")
    s3.put_object(Bucket="cur", Key="csv/billing_period=2026-03/part-0.csv.gz", Body=body)
    glue.create_table(DatabaseName="billing", TableInput={
        "Name": "csv_costs", "PartitionKeys": PERIOD_KEY, "Parameters": {"skip.header.line.count": "1"},
        "StorageDescriptor": {
            "Columns": [{"Name": "service", "Type": "string"}, {"Name": "cost", "Type": "double"}],
            "Location": "s3://cur/csv", "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                          "Parameters": {"field.delim": ","}}}})
    execution, _ = run(athena, "SELECT service, sum(cost) AS cost, count(*) AS n FROM csv_costs "
                               "WHERE billing_period = '2026-03' GROUP BY 1 ORDER BY 1")
    assert rows(athena, execution["QueryExecutionId"]) == [
        ["service", "cost", "n"], ["AmazonEC2", "3.5", "2"], ["AmazonS3", None, "1"]]
    assert scanned(execution) == len(body)
    joined, _ = run(athena, "SELECT count(*) AS n FROM costs c JOIN csv_costs x ON c.service = x.service "
                            "WHERE c.billing_period = '2026-03'")
    assert joined["Status"]["State"] == "SUCCEEDED", joined["Status"]
    assert rows(athena, joined["QueryExecutionId"])[1] == ["5"]
    assert scanned(joined) == sum(sizes.values()) + len(body)  # several tables: no pruning


def check_cur(athena, glue, s3):
    """The real CUR Parquet sample under a partition: daily cost by product code."""
    with open(CUR_SAMPLE, "rb") as f:
        data = f.read()
    key = "workshop/billing_period=2018-10/wal_Oct2018-WorkshopCUR-00001.snappy.parquet"
    s3.put_object(Bucket="cur", Key=key, Body=data)
    con = duckdb.connect()
    schema = con.execute(f"DESCRIBE SELECT * FROM '{CUR_SAMPLE}'").fetchall()
    glue.create_table(DatabaseName="billing", TableInput={
        "Name": "cur", "PartitionKeys": PERIOD_KEY, "StorageDescriptor": {
            "Columns": [{"Name": name, "Type": GLUE_TYPES[kind]} for name, kind, *_ in schema],
            "Location": "s3://cur/workshop/", **PARQUET}})
    aggregation = ("SELECT date(line_item_usage_start_date) AS day, line_item_product_code AS product, "
                   "sum(line_item_unblended_cost) AS cost FROM {} GROUP BY 1, 2 ORDER BY 1, 2")
    execution, _ = run(athena, aggregation.format("cur WHERE billing_period = '2018-10'"))
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert scanned(execution) == len(data)
    got = rows(athena, execution["QueryExecutionId"])
    expected = con.execute(aggregation.format(f"'{CUR_SAMPLE}'")).fetchall()
    assert got[0] == ["day", "product", "cost"] and len(got) - 1 == len(expected) > 100, (got[:3], len(expected))
    for (day, product, cost), (want_day, want_product, want_cost) in zip(got[1:], expected):
        assert (day, product) == (want_day.isoformat(), want_product), (day, product)
        assert abs(float(cost) - want_cost) <= 1e-9 * max(1.0, abs(want_cost)), (day, product, cost, want_cost)
    assert abs(sum(float(r[2]) for r in got[1:]) - 4064.483131536329) < 1e-6


def check_queries_and_reset(athena, port, qid):
    queries = json.loads(http(port, "/costwatch-emulator/athena/queries", method="GET")[2])["queries"]
    first = next(q for q in queries if q["id"] == qid)
    assert set(first) == {"id", "sql", "database", "workgroup", "state", "reason", "bytes_scanned",
                          "output_location"}
    assert first["state"] == "SUCCEEDED" and "WHERE billing_period = '2026-03'" in first["sql"]
    assert first["bytes_scanned"] > 0 and first["output_location"].endswith(f"{qid}.csv")
    assert http(port, "/costwatch-emulator/athena/fail-next", {"reason": "x"})[0] == 200
    assert http(port, "/costwatch-emulator/reset")[0] == 200
    assert json.loads(http(port, "/costwatch-emulator/athena/queries", method="GET")[2]) == {"queries": []}
    assert error(lambda: athena.get_query_execution(QueryExecutionId=qid))[0] == "InvalidRequestException"
    assert run(athena, "SELECT 1 AS one")[1] == ["QUEUED", "RUNNING", "SUCCEEDED"]  # no failure left


def main():
    moto, port = start("moto_peer.py")
    try:
        athena, glue, s3 = clients(port)
        with tempfile.TemporaryDirectory() as tmp:
            sizes = setup_costs(s3, glue, tmp)
        qid = check_query(athena, s3, sizes)
        print("ok: aggregation, states, results and pagination, result CSV in S3, bytes scanned with pruning")
        check_failures(athena, port)
        print("ok: failed queries, fail-next, StopQueryExecution, errors, throttling")
        check_json11(athena, port)
        print("ok: JSON 1.1 lifecycle and errors; REST-JSON work groups through moto")
        check_lifecycle_and_sql(athena, port)
        print("ok: polls_to_finish, Presto translation, value rendering, parameters, idempotency, listing")
        check_catalog(athena, glue)
        print("ok: GetTableMetadata, ListTableMetadata, ListDatabases, GetDatabase from Glue")
        check_csv_table(athena, glue, s3, sizes)
        check_cur(athena, glue, s3)
        print("ok: gzipped CSV table, a join; CUR Parquet sample, daily cost by product matches DuckDB")
        check_queries_and_reset(athena, port, qid)
        print("ok: queries endpoint, reset")
    finally:
        assert stopped(moto, "eof"), "moto peer did not exit on stdin EOF"


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"all checks passed in {time.monotonic() - t0:.1f}s")
