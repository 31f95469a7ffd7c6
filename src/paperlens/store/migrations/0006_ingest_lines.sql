-- Lines of bulk inputs (arXiv JSONL) already ingested: a digest of the raw line, keyed
-- with the parser's code, and the content hash of the record it parsed to. Re-ingesting
-- an unchanged file skips decoding a line whose record is still stored (ingest checks
-- the content hash against `records`), which is most of the cost of a re-ingest.
CREATE TABLE ingest_lines (
    digest       BLOB PRIMARY KEY,
    content_hash TEXT NOT NULL
) WITHOUT ROWID;
