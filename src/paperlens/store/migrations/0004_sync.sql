-- Live sources: resumable sync cursors and Semantic Scholar enrichment.
-- Citation counts are not stored here: they are observations in `signals`
-- (kind 'citations' / 'influential_citations', source 'semantic-scholar').

-- One row per sync stream ("arxiv:<query hash>", "arxiv-oai:cs:arXiv", "hf", ...).
-- `cursor` is JSON (a start offset, an OAI resumption token, a day index...),
-- written in the same transaction as the page it follows, so after a kill -9
-- the stored papers and the cursor always agree.
CREATE TABLE sync_state (
    name       TEXT PRIMARY KEY,
    cursor     TEXT NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- What Semantic Scholar said about a paper at its last enrichment.
CREATE TABLE paper_enrichment (
    paper                      INTEGER PRIMARY KEY REFERENCES papers(key),
    status                     TEXT NOT NULL CHECK (status IN ('found', 'not_found')),
    s2_paper_id                TEXT,
    tldr                       TEXT,
    citation_count             INTEGER,
    influential_citation_count INTEGER,
    reference_count            INTEGER,
    fetched_at                 TEXT NOT NULL
);
CREATE INDEX paper_enrichment_fetched ON paper_enrichment(fetched_at);

-- The paper's reference list as Semantic Scholar gives it (replaced on each enrichment).
CREATE TABLE paper_references (
    paper       INTEGER NOT NULL REFERENCES papers(key),
    position    INTEGER NOT NULL,
    s2_paper_id TEXT,
    arxiv_id    TEXT,
    doi         TEXT,
    title       TEXT,
    PRIMARY KEY (paper, position)
);
CREATE INDEX paper_references_arxiv ON paper_references(arxiv_id);
CREATE INDEX paper_references_doi ON paper_references(doi);
