-- Accounts: users, sessions, login throttling, votes, reading lists, "not interested",
-- and papers submitted by id (queued for the sync code to fetch).
-- Paper columns hold papers.key without a FOREIGN KEY, so store maintenance that
-- re-keys or drops a paper is never blocked by a vote or a list entry; reads
-- join and skip keys that no longer exist.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL,                  -- as typed, shown on public lists
    username_key  TEXT NOT NULL UNIQUE,           -- casefolded, for lookups
    password_hash TEXT NOT NULL,                  -- argon2id via pwdlib
    created_at    TEXT NOT NULL,
    last_login_at TEXT
);

-- The cookie carries a random token; only its sha256 is stored, so a leaked
-- database does not hand out live sessions.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- Failed sign-ins, by "user:<key>" and "ip:<address>", for rate limiting
-- across every worker process.
CREATE TABLE login_failures (
    subject TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures(subject, at);

-- One upvote per user and paper. The running count is also appended to
-- signals as an observation from source "paperlens", so trending reads one series.
CREATE TABLE votes (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    paper      INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, paper)
);
CREATE INDEX votes_paper ON votes(paper);

CREATE TABLE lists (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,             -- random, unguessable: the list's URL
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    public      INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX lists_user ON lists(user_id);

CREATE TABLE list_items (
    list_id  INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    paper    INTEGER NOT NULL,
    note     TEXT NOT NULL DEFAULT '',
    read     INTEGER NOT NULL DEFAULT 0,
    added_at TEXT NOT NULL,
    PRIMARY KEY (list_id, paper)
);
CREATE INDEX list_items_paper ON list_items(paper);

CREATE TABLE not_interested (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    paper      INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, paper)
);

-- Papers submitted by arXiv id or URL. The sync code claims 'queued' rows,
-- fetches them and sets 'fetched' (paper now in the store) or 'failed' + error.
CREATE TABLE submissions (
    id         INTEGER PRIMARY KEY,
    ref        TEXT NOT NULL,                     -- what the user typed
    arxiv_id   TEXT,                              -- normalised, without version
    user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    status     TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'fetched', 'failed')),
    error      TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX submissions_status ON submissions(status, created_at);
CREATE INDEX submissions_user ON submissions(user_id, created_at);
CREATE INDEX submissions_arxiv ON submissions(arxiv_id);
