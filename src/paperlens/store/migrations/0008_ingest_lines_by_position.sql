-- Remembered lines are keyed by where they are (the input's path, the line number) instead
-- of by their digest. A bulk ingest then appends them in order: in a digest-ordered table
-- every insert landed on a random page, which at 1M lines missed the page cache and
-- rewrote a page per line in the write-ahead log. A re-ingest reads them back as ranges
-- and compares digests. A copy of a file under another path is parsed again (its records
-- are still found unchanged by content hash). What was remembered before is dropped: the
-- next re-ingest of such a file parses it once more.
DROP TABLE ingest_lines;
CREATE TABLE ingest_lines (
    file         INTEGER NOT NULL,   -- 64-bit digest of the input's path (ingest_parse.file_key)
    line         INTEGER NOT NULL,
    digest       BLOB NOT NULL,      -- of the raw line, keyed with the parser's code
    content_hash TEXT NOT NULL,
    PRIMARY KEY (file, line)
) WITHOUT ROWID;
