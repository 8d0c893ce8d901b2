"""Amazon Athena that runs its queries: DuckDB over the Glue tables' objects in moto's S3.

Served here, in JSON 1.1 (`X-Amz-Target: AmazonAthena.<Op>`) and in REST-JSON (botocore's
current model of Athena: `POST /query-executions`, `GET /query-executions/{id}/results`, ...,
told by the SigV4 scope `athena` and routed with that model), `x-amzn-RequestId` on every
answer:
- StartQueryExecution, GetQueryExecution, BatchGetQueryExecution, ListQueryExecutions,
  StopQueryExecution, GetQueryResults: the query lifecycle.
- GetTableMetadata, ListTableMetadata, GetDatabase, ListDatabases: answered from moto's Glue
  catalog (moto's Athena keeps databases of its own).
Every other Athena operation (work groups, named queries, data catalogs, ...) is moto's: a
REST-JSON request for one is sent on to moto's JSON 1.1 handler, and /costwatch-emulator/
throttle faults apply to REST-JSON operations too (the middleware matches X-Amz-Target only).
Glue (GetTable, GetPartitions, ...) and S3 are moto's; queries read them through moto's own
app (`ext._call_moto`: injected faults never hit the emulator's own calls).

Lifecycle. A started query is QUEUED; the first `polls_to_finish` GetQueryExecution calls
(default 2) see it QUEUED, then RUNNING; the next one runs it (0: it runs when started) and
sees SUCCEEDED or FAILED. StopQueryExecution before that makes it CANCELLED; it never runs.
The result is written to `<OutputLocation>/<id>.csv` (header row, every value quoted, NULL
empty) with an empty `<id>.csv.metadata`, and paged by GetQueryResults (header first).

Running a query. Every table it names (`t`, `db.t`, `awsdatacatalog.db.t`; `t` in the context
database, default `default`) is read from Glue: the objects below StorageDescriptor.Location
(names starting with `_` or `.` skipped; for a partitioned table only objects whose path has
`key=value/` segments for every partition key) are fetched to a temp dir and registered in
DuckDB as a view `awsdatacatalog.<db>.<t>` with the Glue columns cast to their Glue types (the
partition keys from the paths, typed as Glue says). Parquet is read by column name; text
(InputFormat/SerDe naming text, CSV or LazySimple) by position with TRY_CAST, delimiter from
`field.delim`/`separatorChar` (default `,`), header skipped when the table parameter
`skip.header.line.count` is set, `\\N` as NULL.

Presto/Trino -> DuckDB translation (nothing else is rewritten; both parse the same quoting):
- `date_format(x, f)`: strftime, with the MySQL-style specifiers that differ mapped (`%i`
  minutes, `%s` seconds, `%T`, `%M` month name, `%e`, ...).
- `date_trunc(unit, x)`: keeps x's type like Presto (DuckDB gives DATE for day and coarser).
- `approx_distinct` -> approx_count_distinct, `regexp_like` -> regexp_matches.
- `element_at(map, key)`: the value, NULL when the key is absent (DuckDB's is a list); maps only.
- `integer_division`: `7 / 2` is 3 as in Presto; the session time zone is UTC.
- ExecutionParameters replace the `?` outside literals and comments, in order.
Results are rendered like Athena: doubles as Java writes them (`0.5`, `1.0E-4`, `1.2E7`),
timestamps `2026-03-01 00:00:00.000`, maps `{k=v}`, arrays `[a, b]`.

Bytes scanned: the total size of the S3 objects the query reads. The objects of every table
it names are fetched (in-process, not counted), and DuckDB opens only the files its planner
keeps: for a query on one partitioned table, the partitions passing the file filters that the
planner puts on the partition columns (EXPLAIN's "File Filters": `=`, IN, ranges, ... that
bind the whole WHERE; not one under an OR with another column). A query naming several
tables counts all of their objects.

Control (POST bodies JSON):
- POST /costwatch-emulator/athena/config {"polls_to_finish": N} -> {"polls_to_finish": N}
- POST /costwatch-emulator/athena/fail-next {"reason": "...", "retryable": false}: the next
  started query fails with that StateChangeReason (AthenaError category 1, SYSTEM)
  -> {"pending_failures": n}
- GET /costwatch-emulator/athena/queries -> {"queries": [{"id", "sql", "database",
  "workgroup", "state", "reason", "bytes_scanned", "output_location"}, ...]} in start order.
Reset (either reset endpoint) forgets queries, tokens, pending failures and the config.

Knowingly simplified: one catalog (CatalogName ignored); Glue partitions are not consulted
(partitions come from the S3 paths, as after MSCK REPAIR); bytes scanned count whole objects
(Athena counts the Parquet columns read); SELECT statements only, DuckDB's semantics beyond the
translation above (`1 / 0` is NULL, unaliased columns are named by DuckDB, not `_col0`; a Glue
column in none of the files fails the query); queries run one at a time; only
GetQueryExecution advances the lifecycle; AthenaErrorCode is INVALID_INPUT throughout;
NextTokens are plain offsets.
"""

import decimal
import functools
import json
import os
import re
import tempfile
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import duckdb
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

PREFIX = "/costwatch-emulator/athena"
TARGET = "AmazonAthena."
ATHENA_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/athena/")  # SigV4 scope of Athena
JSON11 = "application/x-amz-json-1.1"
S3NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
DEFAULT_POLLS = 2
UNFINISHED = ("QUEUED", "RUNNING")
ENGINE = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}

# Glue scalar type -> DuckDB type; array/map/struct are read as the files store them
GLUE_TYPES = {
    "string": "VARCHAR", "varchar": "VARCHAR", "char": "VARCHAR", "boolean": "BOOLEAN",
    "tinyint": "TINYINT", "smallint": "SMALLINT", "int": "INTEGER", "integer": "INTEGER",
    "bigint": "BIGINT", "float": "FLOAT", "double": "DOUBLE", "decimal": "DECIMAL(10,0)",
    "date": "DATE", "timestamp": "TIMESTAMP", "binary": "BLOB",
}
# DuckDB result type -> Athena's ColumnInfo type
ATHENA_TYPES = {
    "BOOLEAN": "boolean", "TINYINT": "tinyint", "SMALLINT": "smallint", "INTEGER": "integer",
    "BIGINT": "bigint", "HUGEINT": "bigint", "FLOAT": "float", "DOUBLE": "double",
    "DECIMAL": "decimal", "VARCHAR": "varchar", "DATE": "date", "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone", "BLOB": "varbinary",
    "INTERVAL": "interval day to second",
}
PRECISION = {"varchar": 2147483647, "bigint": 19, "integer": 10, "double": 17, "timestamp": 3}
# MySQL-style date_format specifiers (Presto) that strftime spells differently, in order
MYSQL_FORMATS = [
    ("%M", "%B"), ("%i", "%M"), ("%s", "%S"), ("%T", "%H:%M:%S"), ("%r", "%I:%M:%S %p"),
    ("%e", "%-d"), ("%c", "%-m"), ("%k", "%-H"), ("%l", "%-I"), ("%h", "%I"), ("%W", "%A"),
]


def _strftime_format(arg):
    """SQL turning the Presto format `arg` into a strftime format."""
    for presto, duck in MYSQL_FORMATS:
        arg = f"replace({arg}, '{presto}', '{duck}')"
    return arg


SESSION = [
    "SET integer_division = true",
    "SET TimeZone = 'UTC'",
    f"CREATE TEMP MACRO date_format(x, f) AS strftime(x, {_strftime_format('f')})",
    "CREATE TEMP MACRO date_trunc(unit, x) AS time_bucket(CAST('1 ' || unit AS INTERVAL), x)",
    "CREATE TEMP MACRO approx_distinct(x) AS approx_count_distinct(x)",
    "CREATE TEMP MACRO regexp_like(s, p) AS regexp_matches(s, p)",
    "CREATE TEMP MACRO element_at(m, k) AS map_extract_value(m, k)",
    "ATTACH ':memory:' AS awsdatacatalog",
    "USE awsdatacatalog",
]
# an identifier as DuckDB's qualified table names spell it: quoted when it must be
IDENT = r'"(?:[^"]|"")*"|[^".\s]+'
# string literals, quoted identifiers, comments, or a `?` parameter
LEXEMES = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\?", re.S)


class ApiError(Exception):
    """An error answer: InvalidRequestException unless told otherwise."""

    def __init__(self, message, code="InvalidRequestException", athena_code="INVALID_INPUT"):
        super().__init__(message)
        self.code, self.athena_code = code, athena_code


class MotoError(Exception):
    """moto answered an emulator-internal call with an error."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class QueryFailed(Exception):
    """The query ends FAILED with this StateChangeReason."""

    def __init__(self, reason, category=2, retryable=False):
        super().__init__(reason)
        self.error = {"ErrorCategory": category, "Retryable": retryable, "ErrorMessage": reason}


def _answer(status, obj, code=None, rest=False):
    """A JSON answer (REST-JSON or JSON 1.1) with a request id; `code` marks an error."""
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if code:
        headers["x-amzn-ErrorType"] = code
    content_type = "application/json" if rest else JSON11
    return Response(json.dumps(obj), status, headers, content_type=content_type)


def _ident(name):
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _lit(text):
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


# ---- moto, called in-process -------------------------------------------------------


class Moto:
    """moto's own app (no extensions, no injected faults), called as the Athena caller's
    access key and region."""

    def __init__(self, ext, environ):
        self.ext = ext
        auth = environ.get("HTTP_AUTHORIZATION", "")
        scope = re.search(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/", auth)
        self.key, self.region = scope.groups() if scope else ("testing", "us-east-1")

    def call(self, service, method, path, data=b"", query="", headers=None):
        auth = (f"AWS4-HMAC-SHA256 Credential={self.key}/20260101/{self.region}/{service}/"
                "aws4_request, SignedHeaders=host, Signature=0")
        environ = EnvironBuilder(
            path=path, method=method, data=data, query_string=query,
            headers={"Authorization": auth, "Host": "localhost", **(headers or {})},
        ).get_environ()
        return self.ext._call_moto(environ)

    def json(self, service, target, params):
        """A JSON 1.1 call; MotoError with moto's message when it fails."""
        status, _, body = self.call(service, "POST", "/", json.dumps(params),
                                    headers={"Content-Type": JSON11, "X-Amz-Target": target})
        out = json.loads(body or b"{}")
        if status >= 300:
            code = (out.get("__type") or "InternalFailure").rpartition("#")[2]
            raise MotoError(out.get("message") or out.get("Message") or code, code)
        return out

    def glue(self, op, **params):
        return self.json("glue", f"AWSGlue.{op}", params)

    def s3(self, method, bucket, key="", data=b"", query=""):
        """An S3 REST call (path style); the body, or MotoError with S3's code and message."""
        path = f"/{bucket}/{urllib.parse.quote(key)}"
        status, _, body = self.call("s3", method, path, data, query)
        if status >= 300:
            err = ET.fromstring(body)
            raise MotoError(f"{err.findtext('Code')}: {err.findtext('Message')}")
        return body

    def s3_list(self, bucket, prefix):
        """(key, size) of every object below `prefix`."""
        objects, token = [], None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            root = ET.fromstring(self.s3("GET", bucket, query=urllib.parse.urlencode(query)))
            objects += [(c.findtext(S3NS + "Key"), int(c.findtext(S3NS + "Size")))
                        for c in root.iter(S3NS + "Contents")]
            token = root.findtext(S3NS + "NextContinuationToken")
            if root.findtext(S3NS + "IsTruncated") != "true":
                return objects


# ---- running a query with DuckDB --------------------------------------------------------


@dataclass
class Table:
    keys: list  # [(partition key, DuckDB type)]
    files: list  # [(local path, object size, [partition values])]


def _duck_type(glue_type):
    """The DuckDB type for a Glue scalar type (decimal keeps its precision), else None."""
    base, paren, rest = glue_type.strip().lower().partition("(")
    if base == "decimal" and paren:
        return "DECIMAL(" + rest
    return GLUE_TYPES.get(base)


def _bind(sql, params):
    """Athena's ExecutionParameters: each `?` outside literals and comments, in order, is
    replaced by the next parameter's SQL text."""
    found = sum(m.group() == "?" for m in LEXEMES.finditer(sql))
    if found != len(params):
        raise QueryFailed("SYNTAX_ERROR: Incorrect number of parameters: "
                          f"expected {found} but found {len(params)}")
    values = iter(params)
    return LEXEMES.sub(lambda m: next(values) if m.group() == "?" else m.group(), sql)


def _download(moto, location, keys, root):
    """The data files below `location`, fetched to root/<key>=<value>/...; a partitioned
    table takes only the objects whose path names every partition key."""
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/") + "/" if prefix.strip("/") else ""
    files = []
    for n, (key, size) in enumerate(moto.s3_list(bucket, prefix)):
        *dirs, name = key[len(prefix):].split("/")
        values = {k.lower(): v for k, _, v in (d.partition("=") for d in dirs) if v}
        if not name or name.startswith(("_", ".")) or any(k not in values for k in keys):
            continue
        path = os.path.join(root, *(f"{k}={values[k]}" for k in keys), f"{n}_{name}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(moto.s3("GET", bucket, key))
        files.append((path, size, [values[k] for k in keys]))
    return files


def _view_sql(table, keys, files):
    """SELECT of the Glue columns (cast to their Glue types) and partition keys over `files`."""
    sd = table["StorageDescriptor"]
    columns = [(c["Name"].lower(), _duck_type(c["Type"])) for c in sd.get("Columns", [])]
    if not files:
        nulls = [f"CAST(NULL AS {t or 'VARCHAR'}) AS {_ident(n)}" for n, t in columns + keys]
        return f"SELECT {', '.join(nulls)} WHERE false"
    serde = sd.get("SerdeInfo", {})
    formats = sd.get("InputFormat", "") + serde.get("SerializationLibrary", "")
    text = re.search("text|csv|lazysimple", formats.lower())
    cast = "TRY_CAST" if text else "CAST"
    select = [f"{cast}({_ident(n)} AS {t}) AS {_ident(n)}" if t else _ident(n) for n, t in columns]
    select += [_ident(k) for k, _ in keys]
    paths = ", ".join(_lit(p) for p, _, _ in files)
    options = f"[{paths}], hive_partitioning = {str(bool(keys)).lower()}"
    if keys:
        options += ", hive_types = {" + ", ".join(f"{_lit(k)}: {_lit(t)}" for k, t in keys) + "}"
    if text:
        params = serde.get("Parameters", {})
        delim = params.get("field.delim") or params.get("separatorChar") or ","
        header = int(table.get("Parameters", {}).get("skip.header.line.count", 0)) > 0
        names = ", ".join(f"{_lit(n)}: 'VARCHAR'" for n, _ in columns)
        source = (f"read_csv({options}, columns = {{{names}}}, header = {str(header).lower()}, "
                  f"delim = {_lit(delim)}, nullstr = '\\N')")
    else:
        source = f"read_parquet({options}, union_by_name = true)"
    return f"SELECT {', '.join(select)} FROM {source}"


def _table_ref(qualified, database):
    """(database, table) of a name from get_table_names(qualified=True), e.g.
    `"My DB".t AS x` -> ("my db", "t"); `t` is in the context database."""
    name = re.match(rf"(?:{IDENT})(?:\.(?:{IDENT}))*", qualified).group()
    unquote = lambda p: p[1:-1].replace('""', '"') if p.startswith('"') else p
    parts = [unquote(p).lower() for p in re.findall(IDENT, name)]  # Athena's are lower case
    return (parts[-2] if len(parts) > 1 else database), parts[-1]


def _register(con, moto, db, table, root):
    """Create the DuckDB view for the Glue table db.table over its objects, fetched to `root`."""
    try:
        glue = moto.glue("GetTable", DatabaseName=db, Name=table)["Table"]
    except MotoError:
        raise QueryFailed(f"TABLE_NOT_FOUND: Table 'awsdatacatalog.{db}.{table}' does not exist")
    keys = [(k["Name"].lower(), _duck_type(k["Type"]) or "VARCHAR")
            for k in glue.get("PartitionKeys", [])]
    files = _download(moto, glue["StorageDescriptor"]["Location"], [k for k, _ in keys], root)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(db)}")
    con.execute(f"CREATE VIEW {_ident(db)}.{_ident(table)} AS {_view_sql(glue, keys, files)}")
    return Table(keys, files)


def _plan_nodes(nodes):
    """Every node of an EXPLAIN (FORMAT json) plan."""
    for node in nodes:
        yield node
        yield from _plan_nodes(node.get("children", []))


def _scanned_bytes(con, sql, tables):
    """Size of the objects the query reads: all of its tables', except that for one
    partitioned table only the partitions passing DuckDB's partition file filters count."""
    total = sum(size for t in tables for _, size, _ in t.files)
    if len(tables) != 1 or not tables[0].keys:
        return total
    plan = json.loads(con.execute("EXPLAIN (FORMAT json) " + sql).fetchall()[0][1])
    scans = [n["extra_info"] for n in _plan_nodes(plan)
             if n.get("extra_info", {}).get("Function", "").startswith("READ_")]
    filters = [s.get("File Filters") for s in scans]
    if not scans:
        return 0  # the planner pruned every file
    if not all(filters):
        return total
    keys, files = tables[0].keys, tables[0].files
    columns = ", ".join(f"{_ident(k)} {t}" for k, t in keys)
    con.execute(f"CREATE TEMP TABLE cw_files (size BIGINT, {columns})")
    con.executemany(f"INSERT INTO temp.cw_files VALUES ({', '.join('?' * (len(keys) + 1))})",
                    [[size, *values] for _, size, values in files])
    where = " OR ".join(f"({f})" for f in filters)
    query = f"SELECT coalesce(sum(size), 0) FROM temp.cw_files WHERE {where}"
    return con.execute(query).fetchone()[0]


def _text_sql(ref, duck_type):
    """SQL rendering a result column as Athena's text (doubles are rendered in Python)."""
    if duck_type in ("DOUBLE", "FLOAT"):
        return ref
    if duck_type.startswith("TIMESTAMP"):
        zone = " UTC" if "ZONE" in duck_type else ""
        return f"strftime({ref}, '%Y-%m-%d %H:%M:%S.%g{zone}')"
    return f"CAST({ref} AS VARCHAR)"


def _java_double(x):
    """A double as Java's Double.toString writes it (and so Athena): plain from 10^-3 to
    10^7, else `1.0E-4`, `1.2345678E7`."""
    if x != x or x in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(x)]
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        return repr(x)
    sign, digits, exponent = decimal.Decimal(repr(x)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{len(digits) + exponent - 1}"


def _column_info(name, duck_type):
    """Athena's ColumnInfo for a result column of this DuckDB type."""
    if duck_type.endswith("]"):
        kind = "array"
    elif duck_type.startswith("MAP("):
        kind = "map"
    elif duck_type.startswith("STRUCT("):
        kind = "row"
    else:
        kind = ATHENA_TYPES.get(duck_type.partition("(")[0], "varchar")
    precision, scale = PRECISION.get(kind, 0), 0
    if kind == "decimal":
        precision, scale = map(int, re.findall(r"\d+", duck_type))
    return {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": name, "Label": name,
            "Type": kind, "Precision": precision, "Scale": scale, "Nullable": "UNKNOWN",
            "CaseSensitive": kind == "varchar"}


def _reason(exc):
    """StateChangeReason for a DuckDB error: an Athena error name and DuckDB's first line."""
    semantic = (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException)
    code = "SYNTAX_ERROR" if isinstance(exc, semantic) else "GENERIC_USER_ERROR"
    return f"{code}: {str(exc).splitlines()[0]}"


def execute(moto, sql, database):
    """Run one SELECT: (ColumnInfo list, rows of text or None, bytes scanned)."""
    try:
        with tempfile.TemporaryDirectory(prefix="athena-") as tmp, duckdb.connect() as con:
            statements = con.extract_statements(sql)
            if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
                raise QueryFailed("NOT_SUPPORTED: the emulator runs a single SELECT statement")
            for statement in SESSION + [f"CREATE SCHEMA IF NOT EXISTS {_ident(database)}"]:
                con.execute(statement)
            con.execute(f"USE awsdatacatalog.{_ident(database)}")
            refs = {_table_ref(name, database) for name in con.get_table_names(sql, qualified=True)}
            tables = [_register(con, moto, db, table, os.path.join(tmp, str(i)))
                      for i, (db, table) in enumerate(sorted(refs))]
            scanned = _scanned_bytes(con, sql, tables)
            rel = con.sql(sql)
            types = [str(t) for t in rel.types]
            text = rel.project(", ".join(_text_sql(f"#{i + 1}", t) for i, t in enumerate(types)))
            rows = [[_java_double(v) if isinstance(v, float) else v for v in row]
                    for row in text.fetchall()]
            return [_column_info(n, t) for n, t in zip(rel.columns, types)], rows, scanned
    except duckdb.Error as exc:
        raise QueryFailed(_reason(exc))
    except MotoError as exc:
        raise QueryFailed(f"HIVE_CANNOT_OPEN_SPLIT: {exc}")


def _csv(rows):
    """Athena's result CSV: every value quoted, NULL as an empty field."""
    field_text = lambda v: "" if v is None else '"' + v.replace('"', '""') + '"'
    return "".join(",".join(map(field_text, row)) + "\n" for row in rows).encode()


# ---- the service ------------------------------------------------------------------------


@dataclass
class Query:
    id: str
    sql: str
    context: dict
    workgroup: str
    result_config: dict  # as GetQueryExecution echoes it: OutputLocation = the .csv
    params: list
    moto: Moto
    pending: list  # states the next GetQueryExecution calls show before it runs
    injected: dict | None  # a fail-next failure
    state: str = "QUEUED"
    reason: str | None = None
    error: dict | None = None
    submitted: float = field(default_factory=time.time)
    completed: float | None = None
    engine_ms: int = 0
    scanned: int = 0
    columns: list = field(default_factory=list)
    rows: list = field(default_factory=list)

    @property
    def database(self):
        """The context database, Athena's `default` when none is given."""
        return (self.context.get("Database") or "default").lower()

    def describe(self):
        """The QueryExecution structure."""
        status = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed:
            status["CompletionDateTime"] = self.completed
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.error:
            status["AthenaError"] = self.error
        total_ms = int(((self.completed or time.time()) - self.submitted) * 1000)
        out = {
            "QueryExecutionId": self.id, "Query": self.sql, "StatementType": "DML",
            "SubstatementType": "SELECT", "ResultConfiguration": self.result_config,
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": self.context, "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": self.engine_ms,
                "DataScannedInBytes": self.scanned,
                "TotalExecutionTimeInMillis": max(total_ms, self.engine_ms),
                "QueryQueueTimeInMillis": 0, "QueryPlanningTimeInMillis": 0,
                "ServicePreProcessingTimeInMillis": 0, "ServiceProcessingTimeInMillis": 0,
                "ResultReuseInformation": {"ReusedPreviousResult": False},
            },
            "WorkGroup": self.workgroup, "EngineVersion": ENGINE,
        }
        if self.params:
            out["ExecutionParameters"] = self.params
        return out

    def summary(self):
        """The query as GET /costwatch-emulator/athena/queries lists it."""
        return {"id": self.id, "sql": self.sql, "database": self.database,
                "workgroup": self.workgroup, "state": self.state, "reason": self.reason,
                "bytes_scanned": self.scanned,
                "output_location": self.result_config["OutputLocation"]}


def _page(items, token, size):
    """The page of `items` at the offset `token` holds; (page, next token or None)."""
    if token is not None and not str(token).isdigit():
        raise ApiError(f"Invalid NextToken: {token}")
    start = int(token or 0)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def _max_results(params, limit):
    """The request's page size, `limit` when it has none."""
    size = params.get("MaxResults", limit)
    if not 1 <= size <= limit:
        raise ApiError(f"MaxResults must be between 1 and {limit}")
    return size


def _with_token(out, token):
    """A list answer, with NextToken when there is a next page."""
    return {**out, "NextToken": token} if token else out


def _table_metadata(table):
    """Athena's TableMetadata for a Glue table."""
    sd = table.get("StorageDescriptor", {})
    serde = sd.get("SerdeInfo", {})
    params = {
        "location": sd.get("Location"), "inputformat": sd.get("InputFormat"),
        "outputformat": sd.get("OutputFormat"),
        "serde.serialization.lib": serde.get("SerializationLibrary"),
        **{f"serde.param.{k}": v for k, v in serde.get("Parameters", {}).items()},
        **table.get("Parameters", {}),
    }
    columns = lambda cs: [{k: c[k] for k in ("Name", "Type", "Comment") if k in c} for c in cs]
    return {"Name": table["Name"], "CreateTime": table.get("CreateTime"),
            "TableType": table.get("TableType", "EXTERNAL_TABLE"),
            "Columns": columns(sd.get("Columns", [])),
            "PartitionKeys": columns(table.get("PartitionKeys", [])),
            "Parameters": {k: v for k, v in params.items() if v is not None}}


def _database(db):
    """Athena's Database for a Glue database."""
    return {k: db[k] for k in ("Name", "Description", "Parameters") if db.get(k) is not None}


class Service:
    """The Athena query lifecycle and catalog API (see the module docstring)."""

    def __init__(self, ext):
        self.ext = ext
        self.lock = threading.Lock()
        self.ops = {
            "StartQueryExecution": self.start, "GetQueryExecution": self.get,
            "BatchGetQueryExecution": self.batch_get, "ListQueryExecutions": self.list_executions,
            "StopQueryExecution": self.stop, "GetQueryResults": self.results,
            "GetTableMetadata": self.table_metadata, "ListTableMetadata": self.list_table_metadata,
            "GetDatabase": self.database, "ListDatabases": self.databases,
        }
        self.routes = []  # (method, path pattern, operation model) for REST-JSON requests
        model = ext.model("athena")
        for name in model.operation_names:
            op = model.operation_model(name)
            path = re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", op.http["requestUri"].split("?")[0])
            self.routes.append((op.http["method"], re.compile(path), op))
        self.reset()

    def reset(self):
        with self.lock:
            self.queries, self.tokens, self.fail_next = {}, {}, []
            self.polls = DEFAULT_POLLS

    def route(self, environ):
        """Take the control paths and Athena's served operations, in JSON 1.1 or REST-JSON;
        REST-JSON requests for the other operations go to moto's JSON 1.1 handler."""
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX + "/"):
            return self.control(Request(environ), path[len(PREFIX):])
        req = Request(environ)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        rest = not target
        if target.startswith(TARGET) and target[len(TARGET):] in self.ops:
            name, params = target[len(TARGET):], json.loads(req.get_data() or b"{}")
        elif rest and ATHENA_SCOPE.search(req.headers.get("Authorization", "")):
            name, params = self._rest_request(req)
            if name is None:
                return None
            fault = self.ext.state.take_fault(name)
            if fault:  # the middleware injects faults by X-Amz-Target only
                code = fault["code"] or "ThrottlingException"
                body = {"__type": code, "message": fault["message"]}
                return _answer(fault["status"], body, code, rest)
        else:
            return None
        handler = self.ops.get(name) or functools.partial(self.forward, name)
        try:
            with self.lock:
                return _answer(200, handler(params, Moto(self.ext, environ)), rest=rest)
        except ApiError as e:
            body = {"__type": e.code, "Message": str(e)}
            if e.athena_code:
                body["AthenaErrorCode"] = e.athena_code
            return _answer(400, body, e.code, rest)

    def _rest_request(self, req):
        """(operation, parameters) of a REST-JSON request, from botocore's model of Athena;
        the operation is None when no route matches."""
        for method, pattern, op in self.routes:
            match = pattern.fullmatch(req.path)
            if match and method == req.method:
                params = json.loads(req.get_data() or b"{}")
                for name, shape in op.input_shape.members.items():
                    where = shape.serialization.get("location")
                    wire = shape.serialization.get("name", name)
                    if where == "uri":
                        params[name] = match.group(wire)
                    elif where == "querystring" and wire in req.args:
                        values = req.args.getlist(wire)
                        if shape.type_name != "list":
                            values = int(values[0]) if shape.type_name == "integer" else values[0]
                        params[name] = values
                return op.name, params
        return None, None

    def forward(self, name, params, moto):
        """An Athena operation this module does not serve, sent to moto's JSON 1.1 handler."""
        try:
            return moto.json("athena", TARGET + name, params)
        except MotoError as e:
            raise ApiError(str(e), e.code, None)

    def control(self, req, path):
        """POST /config, POST /fail-next, GET /queries."""
        body = req.get_json(force=True, silent=True) or {}
        with self.lock:
            if req.method == "POST" and path == "/config":
                self.polls = max(0, int(body.get("polls_to_finish", self.polls)))
                return _answer(200, {"polls_to_finish": self.polls})
            if req.method == "POST" and path == "/fail-next":
                reason = body.get("reason") or "GENERIC_INTERNAL_ERROR: injected failure"
                self.fail_next.append({"reason": reason, "retryable": bool(body.get("retryable"))})
                return _answer(200, {"pending_failures": len(self.fail_next)})
            if req.method == "GET" and path == "/queries":
                return _answer(200, {"queries": [q.summary() for q in self.queries.values()]})
        message = f"no such costwatch-emulator endpoint: {req.method} {PREFIX}{path}"
        return _answer(404, {"message": message})

    def _query(self, qid):
        """The query with this id, else InvalidRequestException."""
        if qid not in self.queries:
            raise ApiError(f"QueryExecution {qid} was not found")
        return self.queries[qid]

    def _output_location(self, params, workgroup, moto):
        """The result folder: the work group's when it is enforced, else the request's."""
        wg = moto.json("athena", TARGET + "GetWorkGroup", {"WorkGroup": workgroup}).get("WorkGroup")
        if not wg:
            raise ApiError(f"WorkGroup {workgroup} is not found.")
        conf = wg.get("Configuration", {})
        forced = conf.get("ResultConfiguration", {}).get("OutputLocation")
        asked = params.get("ResultConfiguration", {}).get("OutputLocation")
        enforced = forced and conf.get("EnforceWorkGroupConfiguration")
        location = forced if enforced else asked or forced
        if not location:
            raise ApiError("No output location provided. An output location is required either "
                           "through the Workgroup result configuration setting or as an API input.")
        if not location.startswith("s3://"):
            raise ApiError(f"outputLocation is not a valid S3 path: {location}")
        return location.rstrip("/") + "/"

    # ---- operations: request members in, response members out ----

    def start(self, params, moto):
        token, sql = params.get("ClientRequestToken"), params.get("QueryString", "")
        if token in self.tokens:
            known = self.queries[self.tokens[token]]
            if known.sql != sql:
                raise ApiError("Idempotent parameters do not match")
            return {"QueryExecutionId": known.id}
        workgroup = params.get("WorkGroup") or "primary"
        qid = str(uuid.uuid4())
        location = self._output_location(params, workgroup, moto) + qid + ".csv"
        query = Query(
            id=qid, sql=sql, context=params.get("QueryExecutionContext") or {}, workgroup=workgroup,
            result_config={**params.get("ResultConfiguration", {}), "OutputLocation": location},
            params=params.get("ExecutionParameters") or [], moto=moto,
            pending=(["QUEUED"] + ["RUNNING"] * self.polls)[:self.polls],
            injected=self.fail_next.pop(0) if self.fail_next else None,
        )
        self.queries[qid] = query
        if token:
            self.tokens[token] = qid
        if not query.pending:
            self._run(query)
        return {"QueryExecutionId": qid}

    def _run(self, q):
        """Run the query now and write its result files: SUCCEEDED, or FAILED with a reason."""
        t0 = time.time()
        try:
            if q.injected:
                raise QueryFailed(q.injected["reason"], 1, q.injected["retryable"])
            q.columns, q.rows, q.scanned = execute(q.moto, _bind(q.sql, q.params), q.database)
            q.engine_ms = int((time.time() - t0) * 1000)
            bucket, _, key = q.result_config["OutputLocation"].removeprefix("s3://").partition("/")
            try:
                q.moto.s3("PUT", bucket, key, _csv([[c["Name"] for c in q.columns]] + q.rows))
                q.moto.s3("PUT", bucket, key + ".metadata")
            except MotoError:
                raise QueryFailed(f"Unable to verify/create output bucket {bucket}")
            q.state = "SUCCEEDED"
        except QueryFailed as e:
            q.state, q.reason, q.error, q.scanned = "FAILED", str(e), e.error, 0
        q.completed = time.time()

    def get(self, params, moto):
        q = self._query(params.get("QueryExecutionId"))
        if q.pending:
            q.state = q.pending.pop(0)
        elif q.state in UNFINISHED:
            self._run(q)
        return {"QueryExecution": q.describe()}

    def batch_get(self, params, moto):
        ids = params.get("QueryExecutionIds", [])
        return {
            "QueryExecutions": [self.queries[i].describe() for i in ids if i in self.queries],
            "UnprocessedQueryExecutionIds": [
                {"QueryExecutionId": i, "ErrorCode": "INVALID_INPUT",
                 "ErrorMessage": f"QueryExecution {i} was not found"}
                for i in ids if i not in self.queries],
        }

    def list_executions(self, params, moto):
        workgroup = params.get("WorkGroup") or "primary"
        ids = [q.id for q in reversed(self.queries.values()) if q.workgroup == workgroup]
        page, token = _page(ids, params.get("NextToken"), _max_results(params, 50))
        return _with_token({"QueryExecutionIds": page}, token)

    def stop(self, params, moto):
        q = self._query(params.get("QueryExecutionId"))
        if q.state in UNFINISHED:
            q.state, q.pending, q.completed = "CANCELLED", [], time.time()
            q.reason = "Query cancelled by user"
        return {}

    def results(self, params, moto):
        q = self._query(params.get("QueryExecutionId"))
        if q.state in UNFINISHED:
            raise ApiError(f"Query has not yet finished. Current state: {q.state}")
        if q.state != "SUCCEEDED":
            raise ApiError(f"Query did not finish successfully. Final query state: {q.state}")
        rows = [[c["Name"] for c in q.columns]] + q.rows
        page, token = _page(rows, params.get("NextToken"), _max_results(params, 1000))
        data = [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in page]
        return _with_token({"UpdateCount": 0, "ResultSet": {
            "Rows": data, "ResultSetMetadata": {"ColumnInfo": q.columns}}}, token)

    def _glue(self, moto, op, **params):
        """A Glue call; its errors as Athena's MetadataException."""
        try:
            return moto.glue(op, **params)
        except MotoError as e:
            raise ApiError(str(e), "MetadataException", None)

    def table_metadata(self, params, moto):
        table = self._glue(moto, "GetTable", DatabaseName=params.get("DatabaseName"),
                           Name=params.get("TableName"))
        return {"TableMetadata": _table_metadata(table["Table"])}

    def list_table_metadata(self, params, moto):
        filters = {"Expression": params["Expression"]} if params.get("Expression") else {}
        tables = self._glue(moto, "GetTables", DatabaseName=params.get("DatabaseName"), **filters)
        metadata = [_table_metadata(t) for t in tables["TableList"]]
        page, token = _page(metadata, params.get("NextToken"), _max_results(params, 50))
        return _with_token({"TableMetadataList": page}, token)

    def database(self, params, moto):
        db = self._glue(moto, "GetDatabase", Name=params.get("DatabaseName"))["Database"]
        return {"Database": _database(db)}

    def databases(self, params, moto):
        dbs = [_database(db) for db in self._glue(moto, "GetDatabases")["DatabaseList"]]
        page, token = _page(dbs, params.get("NextToken"), _max_results(params, 50))
        return _with_token({"DatabaseList": page}, token)
