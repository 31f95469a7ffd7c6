"""The store: the only place with SQL.

Callers see the ``Store`` protocol, never a backend, so the PostgreSQL backend
can arrive later without changing them. Store methods never commit on their
own: the caller owns the transaction (``with store.transaction(): ...``),
which is what makes an ingest batch all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from paperlens.model import Observation, Paper, Record


@dataclass(slots=True)
class Candidate:
    """What merge needs to know about a stored paper to decide "same or not"."""

    key: int
    id: str
    arxiv_id: str | None
    doi: str | None
    title_key: str | None
    abstract_key: str | None
    author_keys: frozenset[str] = field(default_factory=frozenset)


@dataclass(slots=True)
class StoredRecord:
    """A source record as stored, with the paper it belongs to."""

    paper: int
    record: Record
    observed_at: str


class Store(Protocol):
    """Everything paperlens reads from or writes to its database."""

    path: Path

    def transaction(self) -> AbstractContextManager[None]: ...
    def bulk_writes(self) -> AbstractContextManager[None]: ...
    def close(self) -> None: ...

    # ingest
    def seen_hashes(self, hashes: Sequence[str]) -> set[str]: ...
    def known_lines(self, file: int, lines: Sequence[tuple[int, bytes]]) -> dict[int, str]: ...
    def remembers_lines(self) -> bool: ...
    def remember_lines(self, rows: Sequence[tuple[int, int, bytes, str]]) -> None: ...
    def candidates(self, kind: str, values: Sequence[str]) -> dict[str, list[Candidate]]: ...
    def records_of(self, paper_keys: Sequence[int]) -> dict[int, list[Record]]: ...
    def next_seq(self) -> int: ...
    def save_papers(
        self,
        items: Sequence[tuple[int | None, Paper]],
        seq: int,
        *,
        match_keys: Sequence[tuple[str | None, str | None] | None] = (),
    ) -> list[int]: ...
    def save_records(self, rows: Sequence[tuple[int, Record, str, str, str]]) -> None: ...
    def existing_ids(self, ids: Sequence[str]) -> set[str]: ...
    def add_signals(self, paper_key: int, signals: Iterable[Observation]) -> int: ...
    def checkpoint(self, name: str) -> tuple[int, bool] | None: ...
    def set_checkpoint(self, name: str, position: int, *, done: bool = False) -> None: ...

    # reads
    def paper(self, ref: str, *, with_claims: bool = False) -> Paper | None: ...
    def papers(self, keys: Sequence[int]) -> list[Paper]: ...
    def papers_by_key(self, keys: Sequence[int]) -> dict[int, Paper]: ...
    def resolve(self, ref: str) -> int | None: ...
    def key_of(self, paper_id: str) -> int | None: ...
    def changed_since(self, seq: int, *, limit: int) -> list[tuple[int, int, Paper]]: ...
    def max_seq(self) -> int: ...
    def count(self) -> int: ...
    def stats(self) -> dict[str, Any]: ...
    def iter_papers(self, *, batch: int = 1000) -> Iterator[Paper]: ...
    def watermark(self, name: str) -> int: ...
    def set_watermark(self, name: str, value: int) -> None: ...


def open_store(db: Path | str) -> Store:
    """Open the store named by a path (SQLite) or a URL.

    PostgreSQL URLs (``postgresql://...``) are recognised but that backend is
    not built yet; saying so beats pretending.
    """
    from paperlens.errors import ConfigError

    text = str(db)
    if text.startswith(("postgres://", "postgresql://", "postgresql+")):
        raise ConfigError(
            f"{text.split('@')[-1]}: the PostgreSQL backend is not available yet; "
            "use a SQLite file path for PAPERLENS_DB"
        )
    from paperlens.store.sqlite import SqliteStore

    return SqliteStore(Path(text))
