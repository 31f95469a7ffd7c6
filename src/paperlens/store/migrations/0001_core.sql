-- Papers, the source records behind them (provenance), authors, signals, ingest checkpoints.
-- JSON columns hold small ordered lists (authors, categories, links, versions).

CREATE TABLE papers (
    key              INTEGER PRIMARY KEY,      -- compact int key used by the indexes
    id               TEXT NOT NULL UNIQUE,     -- stable paperlens id (pl_...)
    arxiv_id         TEXT UNIQUE,
    doi              TEXT UNIQUE,
    title            TEXT,
    title_key        TEXT,
    abstract         TEXT,
    abstract_key     TEXT,
    authors          TEXT NOT NULL DEFAULT '[]',
    authors_complete INTEGER NOT NULL DEFAULT 1,
    author_count     INTEGER,
    organisations    TEXT NOT NULL DEFAULT '[]',
    categories       TEXT NOT NULL DEFAULT '[]',
    published        TEXT,
    updated          TEXT,
    featured         TEXT,
    date_inferred    INTEGER NOT NULL DEFAULT 0,
    comment          TEXT,
    journal_ref      TEXT,
    links            TEXT NOT NULL DEFAULT '[]',
    version          INTEGER,
    versions         TEXT NOT NULL DEFAULT '[]',
    sources          TEXT NOT NULL DEFAULT '[]',
    year             INTEGER,
    seq              INTEGER NOT NULL          -- bumped on every change; indexes sync from it
);
CREATE INDEX papers_title_key ON papers(title_key);
CREATE INDEX papers_abstract_key ON papers(abstract_key);
CREATE INDEX papers_seq ON papers(seq);
CREATE INDEX papers_featured ON papers(featured);
CREATE INDEX papers_published ON papers(published);

-- Every source record as it was parsed: the provenance of every field.
CREATE TABLE records (
    source       TEXT NOT NULL,
    source_key   TEXT NOT NULL,
    origin       TEXT NOT NULL,
    paper        INTEGER NOT NULL REFERENCES papers(key),
    content_hash TEXT NOT NULL,
    location     TEXT,
    observed_at  TEXT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (source, source_key, origin)
);
CREATE INDEX records_paper ON records(paper);
CREATE INDEX records_hash ON records(content_hash);

CREATE TABLE paper_authors (
    paper    INTEGER NOT NULL REFERENCES papers(key),
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    name_key TEXT NOT NULL,
    PRIMARY KEY (paper, position)
);
CREATE INDEX paper_authors_name ON paper_authors(name);

CREATE TABLE paper_orgs (
    paper INTEGER NOT NULL REFERENCES papers(key),
    org   TEXT NOT NULL,
    PRIMARY KEY (paper, org)
);
CREATE INDEX paper_orgs_org ON paper_orgs(org);

-- Upvotes, comments, stars, citations: observations over time, never overwritten.
CREATE TABLE signals (
    paper       INTEGER NOT NULL REFERENCES papers(key),
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    value       REAL NOT NULL,
    PRIMARY KEY (paper, kind, source, observed_at)
);

CREATE TABLE checkpoints (
    name       TEXT PRIMARY KEY,   -- e.g. "ingest:<fingerprint>"
    position   INTEGER NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

CREATE TABLE index_state (
    name      TEXT PRIMARY KEY,    -- "keyword", "vectors:<model>"
    watermark INTEGER NOT NULL
);
