-- Embeddings: the source of truth for vector search (the ANN file beside the
-- database is derived from this table and can always be rebuilt from it).
CREATE TABLE embeddings (
    paper     INTEGER NOT NULL REFERENCES papers(key),
    model     TEXT NOT NULL,
    text_hash TEXT NOT NULL,       -- sha256(model + embedded text): unchanged text is never re-embedded
    vector    BLOB NOT NULL,       -- float32, little-endian, unit length
    PRIMARY KEY (paper, model)
);
