"""The shared vocabulary: what a source says about a paper, and the merged paper.

Plain slotted dataclasses, not pydantic: ingest builds tens of thousands of
these a second and the parsers already produce typed values. Fields a source
did not give stay ``None`` (or empty); nothing is invented. A listing that
shows "3 names + et al." keeps those names and sets ``authors_complete=False``;
one that shows only "6 authors" keeps ``author_count=6`` and no names.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from operator import attrgetter
from typing import Any

import orjson

# Fields of a record that merge folds into the displayed paper, in display order.
PAPER_FIELDS: tuple[str, ...] = (
    "arxiv_id",
    "doi",
    "title",
    "abstract",
    "authors",
    "author_count",
    "organisations",
    "categories",
    "published",
    "updated",
    "featured",
    "comment",
    "journal_ref",
    "links",
)


@dataclass(slots=True)
class Version:
    """One arXiv version of a paper: ``v2`` submitted on ``date``."""

    version: int
    date: date | None = None

    def __reduce__(self) -> tuple[type[Version], tuple[int, date | None]]:
        return Version, (self.version, self.date)


@dataclass(slots=True)
class Observation:
    """A signal measured at a moment: upvotes, comments, GitHub stars, citations.

    Signals change daily, so they are a time series, never one overwritten number.
    """

    kind: str
    value: float
    source: str
    observed_at: datetime


@dataclass(slots=True)
class ParseError:
    """One record a parser could not use: where it was and why.

    Parsers yield these instead of raising, so one bad record never costs the
    rest of the file.
    """

    origin: str
    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.location}: {self.reason}"


@dataclass(slots=True)
class Record:
    """What one source said about one paper, normalised but not merged."""

    source: str
    """The format that produced it, e.g. ``arxiv-atom`` (the ``--format`` value)."""
    source_key: str
    """The source's own id for the record (arXiv id, HF id, BibTeX key, title hash...)."""
    origin: str = ""
    """The file or URL it came from."""
    location: str = ""
    """Where in the origin: ``line 41`` or ``record 7``."""
    arxiv_id: str | None = None
    version: int | None = None
    versions: list[Version] = field(default_factory=list)
    doi: str | None = None
    title: str | None = None
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)
    authors_complete: bool = True
    author_count: int | None = None
    organisations: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    published: date | None = None
    updated: date | None = None
    featured: date | None = None
    date_inferred: bool = False
    """True when a date's year was not printed and was resolved from context."""
    comment: str | None = None
    journal_ref: str | None = None
    links: list[str] = field(default_factory=list)
    signals: list[Observation] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    """Source-specific facts worth keeping (HF id, BibTeX key, BEIR id, affiliations)."""
    observed_at: datetime | None = None
    """When the source said it (response time, file mtime); defaults to ingest time."""

    def __reduce__(self) -> tuple[type[Record], tuple[Any, ...]]:
        """Pickle as the constructor's arguments: ingest ships records between processes,
        and the default for slotted dataclasses (a Python ``__setstate__``) is 5x slower."""
        return Record, _record_state(self)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict; dates become ISO strings.

        Written out by hand because ``dataclasses.asdict`` deep-copies every
        value and was the largest cost of bulk ingest.
        """
        return {
            "source": self.source,
            "source_key": self.source_key,
            "origin": self.origin,
            "location": self.location,
            "arxiv_id": self.arxiv_id,
            "version": self.version,
            "versions": [
                {"version": v.version, "date": v.date.isoformat() if v.date else None}
                for v in self.versions
            ],
            "doi": self.doi,
            "title": self.title,
            "abstract": self.abstract,
            "authors": list(self.authors),
            "authors_complete": self.authors_complete,
            "author_count": self.author_count,
            "organisations": list(self.organisations),
            "categories": list(self.categories),
            "published": self.published.isoformat() if self.published else None,
            "updated": self.updated.isoformat() if self.updated else None,
            "featured": self.featured.isoformat() if self.featured else None,
            "date_inferred": self.date_inferred,
            "comment": self.comment,
            "journal_ref": self.journal_ref,
            "links": list(self.links),
            "signals": [
                {
                    "kind": o.kind,
                    "value": o.value,
                    "source": o.source,
                    "observed_at": o.observed_at.isoformat(),
                }
                for o in self.signals
            ],
            "extra": json.loads(json.dumps(self.extra, default=_json_default))
            if self.extra
            else {},
            "observed_at": self.observed_at.isoformat() if self.observed_at else None,
        }

    def serialise(self) -> tuple[str, str]:
        """``(json_text, content_hash)`` in one pass, for the store.

        The hash is sha256 of the content without where or when it was read,
        so identical content seen again (a re-ingest, the same file renamed)
        hashes the same, which lets ingest skip it before any merge work.

        The text leaves out where and when (the store keeps them in columns of
        their own) and empty fields (``from_json`` restores their defaults):
        about 250 bytes less per record, which lets two typical arXiv records
        share a 4 KiB database page instead of one each.
        """
        data = self.to_json()
        for key in ("origin", "location", "observed_at"):
            data.pop(key, None)
        text = orjson.dumps({k: v for k, v in data.items() if v not in _EMPTY}).decode()
        for sig in data["signals"]:
            sig.pop("observed_at", None)
        blob = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        return text, hashlib.sha256(blob).hexdigest()

    @property
    def content_hash(self) -> str:
        """sha256 of the record's content, without where or when it was read."""
        return self.serialise()[1]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        """Rebuild a record stored with :meth:`to_json` (or :meth:`serialise`: absent
        fields take their defaults)."""
        data = dict(data)
        data["versions"] = [
            Version(v["version"], _date(v.get("date"))) for v in data.get("versions") or []
        ]
        data["signals"] = [
            Observation(
                s["kind"], s["value"], s["source"], datetime.fromisoformat(s["observed_at"])
            )
            for s in data.get("signals") or []
        ]
        for key in ("published", "updated", "featured"):
            data[key] = _date(data.get(key))
        if data.get("observed_at"):
            data["observed_at"] = datetime.fromisoformat(data["observed_at"])
        return cls(**data)


@dataclass(slots=True)
class Claim:
    """One source's value for one field: the unit of provenance."""

    source: str
    source_key: str
    origin: str
    observed_at: str
    value: Any


@dataclass(slots=True)
class Paper:
    """The merged view of a paper: displayed values plus everything behind them."""

    id: str
    arxiv_id: str | None = None
    doi: str | None = None
    title: str | None = None
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)
    authors_complete: bool = True
    author_count: int | None = None
    organisations: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    published: date | None = None
    updated: date | None = None
    featured: date | None = None
    date_inferred: bool = False
    comment: str | None = None
    journal_ref: str | None = None
    links: list[str] = field(default_factory=list)
    version: int | None = None
    versions: list[Version] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    claims: dict[str, list[Claim]] = field(default_factory=dict)
    signals: list[Observation] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __reduce__(self) -> tuple[type[Paper], tuple[Any, ...]]:
        """Pickle as the constructor's arguments (see ``Record.__reduce__``)."""
        return Paper, _paper_state(self)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict for ``--json`` output and the API."""
        return json.loads(json.dumps(asdict(self), default=_json_default))


_EMPTY = (None, [], {})
_record_state = attrgetter(*(f.name for f in fields(Record)))
_paper_state = attrgetter(*(f.name for f in fields(Paper)))


@dataclass(slots=True)
class Scored:
    """A ranked result: a paper id, its score and why it scored so."""

    paper_id: str
    score: float
    reasons: dict[str, Any] = field(default_factory=dict)


def _json_default(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None
