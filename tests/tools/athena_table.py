#!/usr/bin/env python3
"""A billing table for the Athena emulator: files in moto's S3 and a Glue table over them.

  athena_table.py ENDPOINT SPEC.json  ->  {"columns": [[name, glue type], ...], "sizes": {key: bytes}}

SPEC: {"database", "table", "location": "s3://bucket/prefix/", "partition_keys": [...],
       "files": [{"path": local file, "key": key below the location, "out": local copy}],
       "shape": "as-is" | "cur2" | "glue-names", "drop": [columns left out]}

Each file becomes Parquet as an export writes it (DuckDB), and that copy is written to `out` too,
so a test can read the same bytes with `costwatch sync --data`:
- "as-is": a Parquet file is uploaded as it is.
- "glue-names": a CSV (a Hive text export with 0x01 too) with every value as text, NULL and \\N
  as null, column names as a Glue catalog has them (lower case); a FOCUS `Tags` JSON column
  becomes a map, as in FOCUS Data Exports.
- "cur2": legacy CUR Parquet shaped as CUR 2.0: the `resource_tags_user_*` columns folded into a
  `resource_tags` map (keys `user_*`), `product_product_name` into a `product` map.
The table's columns are the union of the files' (in order of first appearance), typed for Glue;
buckets `cur` and `athena-results` are created when missing.
"""
import gzip
import json
import sys

import boto3
import duckdb

GLUE = {"VARCHAR": "string", "DOUBLE": "double", "TIMESTAMP": "timestamp", "BIGINT": "bigint",
        "INTEGER": "int", "DATE": "date", "BOOLEAN": "boolean", "FLOAT": "float",
        "MAP(VARCHAR, VARCHAR)": "map<string,string>", "TIMESTAMP WITH TIME ZONE": "timestamp"}
PARQUET = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
}


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def lit(text):
    return "'" + text.replace("'", "''") + "'"


def source(con, path, shape):
    """The SELECT giving the file's rows in the shape asked for."""
    if shape == "as-is":
        return f"SELECT * FROM read_parquet({lit(path)})"
    if shape == "cur2":
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(path)})").fetchall()]
        tags = [n for n in names if n.startswith("resource_tags_user_")]
        keys = ", ".join(lit(t[len("resource_tags_"):]) for t in tags)
        values = ", ".join(ident(t) for t in tags)
        rest = ", ".join(ident(n) for n in names if n not in tags and n != "product_product_name")
        return (f"SELECT {rest}, map_from_entries(list_filter(list_zip([{keys}], [{values}]), "
                f"e -> e[2] IS NOT NULL AND e[2] <> '')) AS resource_tags, "
                f"MAP(['product_name'], [product_product_name]) AS product "
                f"FROM read_parquet({lit(path)})")
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    with (gzip.open if gzipped else open)(path, "rb") as f:
        hive = b"\x01" in f.readline()
    opener = f"read_csv({lit(path)}, all_varchar = true, nullstr = ['NULL', '\\N'], header = true"
    if hive:
        opener += ", delim = '\x01', quote = ''"
    if gzipped:
        opener += ", compression = 'gzip'"
    opener += ")"
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {opener}").fetchall()]
    columns = []
    for n in names:
        if n == "Tags":
            columns.append(f"CAST(CAST({ident(n)} AS JSON) AS MAP(VARCHAR, VARCHAR)) AS tags")
        else:
            columns.append(f"{ident(n)} AS {ident(n.lower())}")
    return f"SELECT {', '.join(columns)} FROM {opener}"


def main(endpoint, spec_path):
    spec = json.load(open(spec_path))
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    s3, glue = boto3.client("s3", **kw), boto3.client("glue", **kw)
    bucket, _, prefix = spec["location"].removeprefix("s3://").partition("/")
    for name in {bucket, "athena-results"}:
        try:
            s3.create_bucket(Bucket=name)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
    con = duckdb.connect()
    columns, sizes = {}, {}
    for f in spec["files"]:
        select = source(con, f["path"], spec.get("shape", "as-is"))
        drop = [c for c in spec.get("drop", [])]
        if drop:
            select = f"SELECT * EXCLUDE ({', '.join(ident(c) for c in drop)}) FROM ({select})"
        if spec.get("shape", "as-is") == "as-is" and not drop:
            data = open(f["path"], "rb").read()
        else:
            con.execute(f"COPY ({select}) TO {lit(f['out'])} (FORMAT parquet)")
            data = open(f["out"], "rb").read()
        for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM ({select})").fetchall():
            columns.setdefault(name, GLUE.get(kind, "string"))
        key = prefix.rstrip("/") + "/" + f["key"] if prefix.strip("/") else f["key"]
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        sizes[key] = len(data)
    try:
        glue.create_database(DatabaseInput={"Name": spec["database"]})
    except glue.exceptions.AlreadyExistsException:
        pass
    glue.create_table(DatabaseName=spec["database"], TableInput={
        "Name": spec["table"], "TableType": "EXTERNAL_TABLE",
        "PartitionKeys": [{"Name": k, "Type": "string"} for k in spec.get("partition_keys", [])],
        "StorageDescriptor": {"Columns": [{"Name": n, "Type": t} for n, t in columns.items()],
                              "Location": spec["location"], **PARQUET}})
    print(json.dumps({"columns": list(columns.items()), "sizes": sizes}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
