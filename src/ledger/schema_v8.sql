-- An input's version is one opaque text: `size:mtime` of a local file, `assembly:etag` of a
-- CUR assembly on S3 (which had put a key count and a hash into size and mtime columns).
CREATE TABLE ingested_files_v8 (
    path            TEXT PRIMARY KEY,
    version         TEXT NOT NULL,
    billing_periods TEXT NOT NULL
);
INSERT INTO ingested_files_v8
    SELECT path, size || ':' || modified_ns, billing_periods FROM ingested_files;
DROP TABLE ingested_files;
ALTER TABLE ingested_files_v8 RENAME TO ingested_files;
