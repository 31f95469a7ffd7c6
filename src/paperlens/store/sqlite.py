"""SQLite backend: WAL, one connection per thread, writes serialised by BEGIN IMMEDIATE.

Plain ``sqlite3`` rather than SQLAlchemy Core: the bulk ingest path needs
``executemany`` at tens of thousands of rows a second, and the parts Core
cannot express (FTS, vectors) would be hand-written SQL anyway. A PostgreSQL
backend implements the same ``Store`` protocol.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from paperlens.errors import StoreError
from paperlens.ids import normalise_doi, parse_arxiv_id
from paperlens.merge.provenance import claims_from_records
from paperlens.model import Observation, Paper, Record, Version
from paperlens.store import Candidate
from paperlens.text import name_key, stored_keys

_PAPER_COLUMNS = (
    "key, id, arxiv_id, doi, title, abstract, authors, authors_complete, author_count, "
    "organisations, categories, published, updated, featured, date_inferred, comment, "
    "journal_ref, links, version, versions, sources"
)
_IN_CHUNK = 500  # well under SQLite's bound-parameter limit
_WAL_RESTART_FRAMES = 131_072  # 512 MiB of 4 KiB pages: each RESTART stalls the writer
_ABSTRACT_PREFIX = 48  # characters of abstract_key in its index (migration 0007)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SqliteStore:
    """The embedded default store: one SQLite file, safe for a killed process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._all: list[sqlite3.Connection] = []
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate(self.conn)

    # -- connections -------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened and configured on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: not a usable SQLite database ({exc})") from None
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA cache_size=-65536")
            self._local.conn = conn
            self._all.append(conn)
        return conn

    def close(self) -> None:
        for conn in self._all:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed in its own thread
                conn.close()
        self._all.clear()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; nested calls become savepoints.

        ``BEGIN IMMEDIATE`` takes the write lock up front, so concurrent writers
        queue on ``busy_timeout`` instead of failing half-way with "locked".
        """
        conn = self.conn
        with self._write_lock:
            if conn.in_transaction:
                name = f"sp{id(object())}"
                conn.execute(f"SAVEPOINT {name}")
                try:
                    yield
                except BaseException:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                    raise
                conn.execute(f"RELEASE {name}")
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """A long run of write transactions follows (a bulk ingest): checkpoint in the background.

        Copying the write-ahead log back into the database ran inside the
        writer's COMMIT every 4 MB, about 12 % of a bulk ingest on the thread
        that is the bottleneck. Here a second connection checkpoints twice a
        second on its own thread (SQLite releases the GIL), so the copy
        overlaps with parsing. Passive checkpoints never block the writer but
        never let the log start over either (the writer is always ahead), so
        once the log passes ``_WAL_RESTART_FRAMES`` a RESTART checkpoint waits
        for the current batch, copies the little that is left and lets the
        next batch write the log from its start. A killed process loses
        nothing committed: it is a normal WAL throughout.
        """
        conn = self.conn
        stop = threading.Event()

        def checkpoint() -> None:
            other = sqlite3.connect(self.path, isolation_level=None, timeout=60)
            try:
                while not stop.wait(0.5):
                    _busy, frames, _done = other.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).fetchone()
                    if frames > _WAL_RESTART_FRAMES:
                        other.execute("PRAGMA wal_checkpoint(RESTART)")
            finally:
                other.close()

        thread = threading.Thread(target=checkpoint, name="wal-checkpoint", daemon=True)
        conn.execute("PRAGMA wal_autocheckpoint=0")
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            conn.execute("PRAGMA wal_autocheckpoint=1000")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Apply every ``migrations/NNNN_*.sql`` not yet applied, each in its own transaction."""
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
        folder = resources.files("paperlens.store") / "migrations"
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".sql") or entry.name in done:
                continue
            script = entry.read_text(encoding="utf-8")
            with self.transaction():
                for statement in _split_sql(script):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (entry.name, _now()))

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM schema_migrations ORDER BY 1")]

    # -- ingest ------------------------------------------------------------

    def seen_hashes(self, hashes: Sequence[str]) -> set[str]:
        seen: set[str] = set()
        for chunk in _chunks(list(hashes)):
            marks = ",".join("?" * len(chunk))
            seen.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT content_hash FROM records WHERE content_hash IN ({marks})", chunk
                )
            )
        return seen

    def known_lines(self, file: int, lines: Sequence[tuple[int, bytes]]) -> dict[int, str]:
        """Of these ``(line number, digest)`` of input ``file``, the lines remembered with the
        same digest whose record is still stored, mapped to its content hash."""
        if not lines:
            return {}
        wanted = dict(lines)
        rows = self.conn.execute(
            "SELECT l.line, l.digest, l.content_hash FROM ingest_lines l "
            "WHERE l.file = ? AND l.line BETWEEN ? AND ? AND EXISTS "
            "(SELECT 1 FROM records r WHERE r.content_hash = l.content_hash)",
            (file, min(wanted), max(wanted)),
        )
        return {line: chash for line, digest, chash in rows if wanted.get(line) == digest}

    def remembers_lines(self) -> bool:
        """Whether any input line is remembered (else ``known_lines`` can only answer {})."""
        return self.conn.execute("SELECT 1 FROM ingest_lines LIMIT 1").fetchone() is not None

    def remember_lines(self, rows: Sequence[tuple[int, int, bytes, str]]) -> None:
        """Store ``(file, line number, line digest, content hash)`` (see migration 0008)."""
        self.conn.executemany("INSERT OR REPLACE INTO ingest_lines VALUES (?, ?, ?, ?)", rows)

    def candidates(self, kind: str, values: Sequence[str]) -> dict[str, list[Candidate]]:
        """Stored papers whose ``kind`` key (arxiv, doi, title, abstract) is in ``values``."""
        column = {"arxiv": "arxiv_id", "doi": "doi", "title": "title_key",
                  "abstract": "abstract_key"}[kind]  # fmt: skip
        found: dict[str, list[Candidate]] = {}
        rows: list[tuple[Any, ...]] = []
        for chunk in _chunks(sorted(set(values))):
            marks = ",".join("?" * len(chunk))
            where, params = f"{column} IN ({marks})", chunk
            if kind == "abstract":  # through the prefix index (migration 0007)
                where = f"substr(abstract_key, 1, {_ABSTRACT_PREFIX}) IN ({marks}) AND {where}"
                params = [v[:_ABSTRACT_PREFIX] for v in chunk] + chunk
            rows.extend(
                self.conn.execute(
                    f"SELECT key, id, arxiv_id, doi, title_key, abstract_key, {column} "
                    f"FROM papers WHERE {where}",
                    params,
                )
            )
        if not rows:
            return found
        authors = self._author_keys([r[0] for r in rows]) if kind in ("title", "abstract") else {}
        for key, pid, arxiv_id, doi, tkey, akey, value in rows:
            found.setdefault(value, []).append(
                Candidate(key, pid, arxiv_id, doi, tkey, akey, authors.get(key, frozenset()))
            )
        return found

    def _author_keys(self, keys: Sequence[int]) -> dict[int, frozenset[str]]:
        out: dict[int, set[str]] = {}
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            for paper, nkey in self.conn.execute(
                f"SELECT paper, name_key FROM paper_authors WHERE paper IN ({marks})", chunk
            ):
                out.setdefault(paper, set()).add(nkey)
        return {k: frozenset(v) for k, v in out.items()}

    def records_of(self, paper_keys: Sequence[int]) -> dict[int, list[Record]]:
        out: dict[int, list[Record]] = {}
        for chunk in _chunks(list(paper_keys)):
            marks = ",".join("?" * len(chunk))
            for paper, data, observed, origin, location in self.conn.execute(
                f"SELECT paper, data, observed_at, origin, location FROM records "
                f"WHERE paper IN ({marks}) ORDER BY observed_at, rowid",
                chunk,
            ):
                # Where and when live in columns (older rows also carry them in data).
                record = Record.from_json(orjson.loads(data))
                if record.observed_at is None:
                    record.observed_at = datetime.fromisoformat(observed)
                record.origin = record.origin or origin
                record.location = record.location or location or ""
                out.setdefault(paper, []).append(record)
        return out

    def next_seq(self) -> int:
        row = self.conn.execute("SELECT max(seq) FROM papers").fetchone()
        return int(row[0] or 0) + 1

    def save_papers(
        self,
        items: Sequence[tuple[int | None, Paper]],
        seq: int,
        *,
        match_keys: Sequence[tuple[str | None, str | None] | None] = (),
    ) -> list[int]:
        """Insert (key None) or replace papers' displayed values; returns their keys.

        Keys are handed out here (the writer holds the lock) so a whole batch
        goes to SQLite in a few ``executemany`` calls instead of a call per paper.
        ``match_keys``: each paper's ``(title_key, abstract_key)`` where the
        caller already has them (None: compute them here).
        """
        conn = self.conn
        taken_dois = self._doi_owners([p.doi for _k, p in items if p.doi])
        next_key = int(conn.execute("SELECT coalesce(max(key), 0) FROM papers").fetchone()[0])
        inserts, updates, keys = [], [], []
        known = list(match_keys) or [None] * len(items)
        for n, ((key, paper), title_abstract) in enumerate(zip(items, known, strict=True)):
            if key is None:
                next_key += 1
                key = next_key
                target = inserts
            else:
                target = updates
            doi = paper.doi
            if doi and taken_dois.get(doi, key) != key:
                # Two papers claim one DOI (a bad BibTeX entry, say); the DOI stays a
                # claim on both records but is displayed only on the first.
                doi = None
            elif doi:
                taken_dois[doi] = key
            target.append((*_paper_values(paper, doi, seq + n, title_abstract), key))
            keys.append(key)
        conn.executemany(
            f"INSERT INTO papers ({_WRITE_COLUMNS}, key) VALUES ("
            + ",".join("?" * (_N_WRITE + 1)) + ")",
            inserts,
        )  # fmt: skip
        if updates:
            assignments = ", ".join(f"{c.strip()}=?" for c in _WRITE_COLUMNS.split(","))
            conn.executemany(f"UPDATE papers SET {assignments} WHERE key=?", updates)
            old = [(row[-1],) for row in updates]
            conn.executemany("DELETE FROM paper_authors WHERE paper=?", old)
            conn.executemany("DELETE FROM paper_orgs WHERE paper=?", old)
        conn.executemany(
            "INSERT INTO paper_authors VALUES (?,?,?,?)",
            [
                (key, i, name, name_key(name))
                for key, (_k, paper) in zip(keys, items, strict=True)
                for i, name in enumerate(paper.authors)
            ],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO paper_orgs VALUES (?,?)",
            [
                (key, org)
                for key, (_k, paper) in zip(keys, items, strict=True)
                for org in paper.organisations
            ],
        )
        return keys

    def _doi_owners(self, dois: Sequence[str]) -> dict[str, int]:
        owners: dict[str, int] = {}
        for chunk in _chunks(sorted(set(dois))):
            marks = ",".join("?" * len(chunk))
            owners.update(
                self.conn.execute(f"SELECT doi, key FROM papers WHERE doi IN ({marks})", chunk)
            )
        return owners

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self.conn.execute(f"SELECT id FROM papers WHERE id IN ({marks})", chunk)
            )
        return found

    def save_records(self, rows: Sequence[tuple[int, Record, str, str, str]]) -> None:
        """Store source records: ``(paper_key, record, observed_at, data, content_hash)``.

        ``data`` and ``content_hash`` come from ``Record.serialise``.
        """
        self.conn.executemany(
            "INSERT OR REPLACE INTO records VALUES (?,?,?,?,?,?,?,?)",
            [
                (r.source, r.source_key, r.origin, key, digest, r.location, observed, data)
                for key, r, observed, data, digest in rows
            ],
        )

    def add_signals(self, paper_key: int, signals: Iterable[Observation]) -> int:
        cur = self.conn.executemany(
            "INSERT OR IGNORE INTO signals VALUES (?,?,?,?,?)",
            [
                (paper_key, s.kind, s.source, s.observed_at.isoformat(), float(s.value))
                for s in signals
            ],
        )
        return max(cur.rowcount, 0)

    def checkpoint(self, name: str) -> tuple[int, bool] | None:
        row = self.conn.execute(
            "SELECT position, done FROM checkpoints WHERE name=?", (name,)
        ).fetchone()
        return (int(row[0]), bool(row[1])) if row else None

    def set_checkpoint(self, name: str, position: int, *, done: bool = False) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO checkpoints VALUES (?,?,?,?)",
            (name, position, int(done), _now()),
        )

    # -- reads -------------------------------------------------------------

    def key_of(self, paper_id: str) -> int | None:
        row = self.conn.execute("SELECT key FROM papers WHERE id=?", (paper_id,)).fetchone()
        return int(row[0]) if row else None

    def resolve(self, ref: str) -> int | None:
        """The key of the paper named by a paperlens id, an arXiv id/URL or a DOI."""
        ref = ref.strip()
        conn = self.conn
        if ref.startswith("pl_"):
            return self.key_of(ref)
        arxiv = parse_arxiv_id(ref)
        if arxiv:
            row = conn.execute("SELECT key FROM papers WHERE arxiv_id=?", (arxiv[0],)).fetchone()
            if row:
                return int(row[0])
        doi = normalise_doi(ref)
        if doi:
            row = conn.execute("SELECT key FROM papers WHERE doi=?", (doi,)).fetchone()
            if row:
                return int(row[0])
        row = conn.execute(
            "SELECT paper FROM records WHERE source_key=? LIMIT 1", (ref,)
        ).fetchone()
        return int(row[0]) if row else None

    def paper(self, ref: str, *, with_claims: bool = False) -> Paper | None:
        key = self.resolve(ref)
        if key is None:
            return None
        paper = self.papers([key])[0]
        paper.signals = self.signals_of(key)
        if with_claims:
            paper.claims = claims_from_records(self.records_of([key]).get(key, []))
        return paper

    def signals_of(self, key: int) -> list[Observation]:
        return [
            Observation(kind, value, source, datetime.fromisoformat(at))
            for kind, source, at, value in self.conn.execute(
                "SELECT kind, source, observed_at, value FROM signals WHERE paper=? "
                "ORDER BY observed_at, kind",
                (key,),
            )
        ]

    def papers(self, keys: Sequence[int]) -> list[Paper]:
        """Papers for ``keys``, in the order given (unknown keys are dropped)."""
        by_key = self.papers_by_key(keys)
        return [by_key[k] for k in keys if k in by_key]

    def papers_by_key(self, keys: Sequence[int]) -> dict[int, Paper]:
        by_key: dict[int, Paper] = {}
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT {_PAPER_COLUMNS} FROM papers WHERE key IN ({marks})", chunk
            ):
                by_key[row[0]] = _row_to_paper(row)
        return by_key

    def changed_since(self, seq: int, *, limit: int) -> list[tuple[int, int, Paper]]:
        """``(key, seq, paper)`` for papers changed after ``seq``, oldest change first."""
        rows = self.conn.execute(
            f"SELECT {_PAPER_COLUMNS}, seq FROM papers WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        return [(row[0], row[-1], _row_to_paper(row[:-1])) for row in rows]

    def iter_papers(self, *, batch: int = 1000) -> Iterator[Paper]:
        last = 0
        while True:
            rows = self.conn.execute(
                f"SELECT {_PAPER_COLUMNS} FROM papers WHERE key > ? ORDER BY key LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _row_to_paper(row)
            last = rows[-1][0]

    def max_seq(self) -> int:
        return self.next_seq() - 1

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    def stats(self) -> dict[str, Any]:
        conn = self.conn
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "papers": one("SELECT count(*) FROM papers"),
            "authors": one("SELECT count(DISTINCT name) FROM paper_authors"),
            "organisations": one("SELECT count(DISTINCT org) FROM paper_orgs"),
            "records": one("SELECT count(*) FROM records"),
            "signals": one("SELECT count(*) FROM signals"),
            "with_arxiv_id": one("SELECT count(*) FROM papers WHERE arxiv_id IS NOT NULL"),
            "per_source": dict(
                conn.execute(
                    "SELECT source, count(DISTINCT paper) FROM records GROUP BY source ORDER BY 1"
                ).fetchall()
            ),
            "per_year": {
                str(y): n
                for y, n in conn.execute(
                    "SELECT year, count(*) FROM papers WHERE year IS NOT NULL "
                    "GROUP BY year ORDER BY year"
                )
            },
        }

    # -- embeddings ----------------------------------------------------------

    def texts_changed_since(
        self, seq: int, *, limit: int
    ) -> list[tuple[int, int, str | None, str | None]]:
        """``(key, seq, title, abstract)`` of papers changed after ``seq``, oldest first."""
        return self.conn.execute(
            "SELECT key, seq, title, abstract FROM papers WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()

    def count_changed_since(self, seq: int) -> int:
        return int(
            self.conn.execute("SELECT count(*) FROM papers WHERE seq > ?", (seq,)).fetchone()[0]
        )

    def max_embedding_rowid(self) -> int:
        return int(
            self.conn.execute("SELECT coalesce(max(rowid), 0) FROM embeddings").fetchone()[0]
        )

    def embedding_hashes(self, model: str, keys: Sequence[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            found.update(
                self.conn.execute(
                    f"SELECT paper, text_hash FROM embeddings WHERE model=? AND paper IN ({marks})",
                    [model, *chunk],
                )
            )
        return found

    def save_embeddings(self, model: str, rows: Sequence[tuple[int, str, bytes]]) -> None:
        """Store ``(paper key, text hash, float32 vector bytes)`` rows for ``model``."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
            [(key, model, digest, vector) for key, digest, vector in rows],
        )

    def embeddings_since(
        self, model: str, rowid: int, *, limit: int
    ) -> list[tuple[int, int, bytes]]:
        """``(rowid, paper key, vector)`` stored after ``rowid`` (for index catch-up)."""
        return self.conn.execute(
            "SELECT rowid, paper, vector FROM embeddings WHERE model=? AND rowid > ? "
            "ORDER BY rowid LIMIT ?",
            (model, rowid, limit),
        ).fetchall()

    def embedding(self, model: str, key: int) -> bytes | None:
        row = self.conn.execute(
            "SELECT vector FROM embeddings WHERE model=? AND paper=?", (model, key)
        ).fetchone()
        return bytes(row[0]) if row else None

    def any_embedding(self, model: str) -> bytes | None:
        row = self.conn.execute(
            "SELECT vector FROM embeddings WHERE model=? LIMIT 1", (model,)
        ).fetchone()
        return bytes(row[0]) if row else None

    def embedding_count(self, model: str) -> int:
        return int(
            self.conn.execute("SELECT count(*) FROM embeddings WHERE model=?", (model,)).fetchone()[
                0
            ]
        )

    def delete_embeddings(self, model: str) -> None:
        self.conn.execute("DELETE FROM embeddings WHERE model=?", (model,))

    def watermark(self, name: str) -> int:
        row = self.conn.execute(
            "SELECT watermark FROM index_state WHERE name=?", (name,)
        ).fetchone()
        return int(row[0]) if row else 0

    def set_watermark(self, name: str, value: int) -> None:
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO index_state VALUES (?, ?)", (name, value))


_WRITE_COLUMNS = (
    "id, arxiv_id, doi, title, title_key, abstract, abstract_key, authors, authors_complete,"
    " author_count, organisations, categories, published, updated, featured, date_inferred,"
    " comment, journal_ref, links, version, versions, sources, year, seq"
)
_N_WRITE = len(_WRITE_COLUMNS.split(","))


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _paper_values(
    paper: Paper, doi: str | None, seq: int, match_keys: tuple[str | None, str | None] | None
) -> tuple[Any, ...]:
    tkey, akey = match_keys or stored_keys(paper.title, paper.abstract)
    return (
        paper.id, paper.arxiv_id, doi, paper.title, tkey, paper.abstract, akey,
        _dumps(paper.authors), int(paper.authors_complete),
        paper.author_count, _dumps(paper.organisations),
        _dumps(paper.categories), _iso(paper.published), _iso(paper.updated),
        _iso(paper.featured), int(paper.date_inferred), paper.comment, paper.journal_ref,
        _dumps(paper.links), paper.version,
        _dumps([[v.version, _iso(v.date)] for v in paper.versions]),
        _dumps(paper.sources), _year(paper), seq,
    )  # fmt: skip


def _row_to_paper(row: Sequence[Any]) -> Paper:
    (_key, pid, arxiv_id, doi, title, abstract, authors, complete, count, orgs, cats,
     published, updated, featured, inferred, comment, jref, links, version, versions,
     sources) = row  # fmt: skip
    return Paper(
        id=pid,
        arxiv_id=arxiv_id,
        doi=doi,
        title=title,
        abstract=abstract,
        authors=json.loads(authors),
        authors_complete=bool(complete),
        author_count=count,
        organisations=json.loads(orgs),
        categories=json.loads(cats),
        published=_date(published),
        updated=_date(updated),
        featured=_date(featured),
        date_inferred=bool(inferred),
        comment=comment,
        journal_ref=jref,
        links=json.loads(links),
        version=version,
        versions=[Version(v, _date(d)) for v, d in json.loads(versions)],
        sources=json.loads(sources),
    )


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(values), _IN_CHUNK):
        yield values[i : i + _IN_CHUNK]


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements; ``sqlite3.complete_statement`` handles triggers."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        if not buf and line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _year(paper: Paper) -> int | None:
    when = paper.published or paper.featured
    return when.year if when else None
