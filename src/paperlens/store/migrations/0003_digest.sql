-- Email digests: subscriptions and what they follow, the outbox (exactly-once sending),
-- the papers already sent to each subscriber, digest runs, and the worker's job times.
-- user_id refers to users(id) from 0002_accounts but carries no FOREIGN KEY, so this
-- migration applies whether or not the accounts tables exist yet.

CREATE TABLE digest_subscriptions (
    id               INTEGER PRIMARY KEY,
    email            TEXT NOT NULL UNIQUE,          -- normalised by email-validator
    user_id          INTEGER,                       -- a signed-in owner, if any
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'active', 'paused', 'unsubscribed')),
    cadence          TEXT NOT NULL DEFAULT 'weekly' CHECK (cadence IN ('daily', 'weekly')),
    send_hour        INTEGER NOT NULL DEFAULT 7 CHECK (send_hour BETWEEN 0 AND 23),
    weekday          INTEGER NOT NULL DEFAULT 0 CHECK (weekday BETWEEN 0 AND 6),  -- 0 = Monday
    timezone         TEXT NOT NULL DEFAULT 'UTC',
    include_trending INTEGER NOT NULL DEFAULT 1,
    trending_window  TEXT NOT NULL DEFAULT 'weekly'
                     CHECK (trending_window IN ('daily', 'weekly', 'monthly')),
    trending_count   INTEGER NOT NULL DEFAULT 5 CHECK (trending_count BETWEEN 0 AND 50),
    include_follows  INTEGER NOT NULL DEFAULT 1,
    include_searches INTEGER NOT NULL DEFAULT 1,
    include_similar  INTEGER NOT NULL DEFAULT 1,
    personal_count   INTEGER NOT NULL DEFAULT 10 CHECK (personal_count BETWEEN 0 AND 50),
    confirm_nonce    TEXT,                          -- only the latest confirmation link works
    confirm_sent_at  TEXT,
    confirms_today   INTEGER NOT NULL DEFAULT 0,    -- confirmation mails in the current UTC day
    confirms_day     TEXT,
    bounce_count     INTEGER NOT NULL DEFAULT 0,    -- consecutive permanent failures
    created_at       TEXT NOT NULL,
    confirmed_at     TEXT,
    unsubscribed_at  TEXT,
    paused_at        TEXT
);
CREATE INDEX digest_subscriptions_user ON digest_subscriptions(user_id);
CREATE INDEX digest_subscriptions_status ON digest_subscriptions(status, cadence);

CREATE TABLE digest_follows (
    subscription_id INTEGER NOT NULL REFERENCES digest_subscriptions(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('author', 'org', 'category')),
    value           TEXT NOT NULL,                  -- as the user wrote it, for display
    value_key       TEXT NOT NULL,                  -- folded, for matching
    created_at      TEXT NOT NULL,
    PRIMARY KEY (subscription_id, kind, value_key)
);

CREATE TABLE digest_saved_searches (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES digest_subscriptions(id) ON DELETE CASCADE,
    query           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (subscription_id, query)
);

-- One row per message. A digest's row is written (with its rendered bytes and its
-- Message-ID) before any SMTP traffic; see docs/digest.md for the state machine.
CREATE TABLE digest_outbox (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES digest_subscriptions(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('digest', 'confirm')),
    period          TEXT NOT NULL,                  -- '2026-11-23', '2026-W48', 'confirm:<nonce>'
    state           TEXT NOT NULL
                    CHECK (state IN ('queued', 'sending', 'committing', 'sent', 'retry',
                                     'failed', 'unknown', 'cancelled', 'skipped')),
    message_id      TEXT UNIQUE,                    -- stable across retries
    recipient       TEXT NOT NULL,
    message         BLOB,                           -- the RFC 5322 bytes, CRLF line ends
    papers          INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    owner           TEXT,                           -- 'host:pid:start' of the claiming sender
    claimed_at      TEXT,
    last_code       INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    UNIQUE (subscription_id, kind, period)
);
CREATE INDEX digest_outbox_due ON digest_outbox(state, next_attempt_at);

-- Every paper ever put in a subscriber's digest: never send it to them again.
CREATE TABLE digest_sent_papers (
    subscription_id INTEGER NOT NULL REFERENCES digest_subscriptions(id) ON DELETE CASCADE,
    paper           INTEGER NOT NULL,               -- papers.key
    outbox_id       INTEGER NOT NULL REFERENCES digest_outbox(id) ON DELETE CASCADE,
    reason          TEXT NOT NULL,
    PRIMARY KEY (subscription_id, paper)
);
CREATE INDEX digest_sent_papers_outbox ON digest_sent_papers(outbox_id);

CREATE TABLE digest_runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    cadence     TEXT,
    dry_run     INTEGER NOT NULL DEFAULT 0,
    report      TEXT                                -- JSON summary
);

-- When each scheduled job last ran, so a restarted worker does not repeat early.
CREATE TABLE worker_jobs (
    name        TEXT PRIMARY KEY,
    started_at  TEXT,
    finished_at TEXT,
    ok          INTEGER,
    summary     TEXT
);
