#!/usr/bin/env python3
"""Independent totals of a billing CSV (stdlib only), to check costwatch's ingest against.

  cur_totals.py FILE  ->  {"rows": N, "total": unblended, "usage": usage-only unblended}

Reads legacy CUR (slash or snake_case headers), FOCUS, and Hive text exports (0x01, \\N).
"""
import csv
import gzip
import json
import sys

COST = ("lineItem/UnblendedCost", "line_item_unblended_cost", "BilledCost")
TYPE = ("lineItem/LineItemType", "line_item_line_item_type", "ChargeCategory")
USAGE = {"Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"}


def main(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode()
    hive = "\x01" in text.split("\n", 1)[0]
    reader = csv.reader(text.splitlines(), delimiter="\x01" if hive else ",",
                        quoting=csv.QUOTE_NONE if hive else csv.QUOTE_MINIMAL)
    header = next(reader)
    cost = next(header.index(c) for c in COST if c in header)
    kind = next(header.index(c) for c in TYPE if c in header)
    rows = total = usage = 0
    for row in reader:
        value = row[cost]
        amount = 0.0 if value in ("", "NULL", "\\N") else float(value)
        rows += 1
        total += amount
        if row[kind] in USAGE:
            usage += amount
    print(json.dumps({"rows": rows, "total": total, "usage": usage}))


if __name__ == "__main__":
    main(sys.argv[1])
