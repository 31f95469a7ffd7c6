"""The display rule: which value a merged paper shows when its sources disagree.

The rule, per field (documented for users in docs/merge.md):

1. Records are ranked by source authority: arXiv metadata (OAI-PMH, API,
   bulk snapshot) > Hugging Face Daily Papers > BibTeX > listing pages and
   BEIR. Ties go to the higher arXiv version, then the later observation.
2. Scalar fields (title, abstract, DOI, dates, comment, journal ref) show the
   best-ranked record's value; the others stay as claims.
3. Authors show the best-ranked *complete* list; when no source lists them
   all, the longest partial list is shown, flagged incomplete, never padded.
4. ``featured`` is the earliest day any listing featured the paper, because
   that is the day it trended.
5. Organisations and links are unions (sources complement each other);
   versions are the union by version number.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from paperlens.model import Paper, Record, Version

SOURCE_RANK: dict[str, int] = {
    "arxiv-oai": 6,
    "arxiv-atom": 6,
    "arxiv-jsonl": 5,
    "hf-daily": 4,
    "bibtex": 3,
    "listing": 2,
    "beir": 2,
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SCALARS = ("arxiv_id", "doi", "title", "abstract", "published", "updated", "comment",
            "journal_ref")  # fmt: skip


def _rank(record: Record) -> tuple[int, int, datetime]:
    return (SOURCE_RANK.get(record.source, 1), record.version or 0, record.observed_at or _EPOCH)


def fold(paper_id: str, records: Sequence[Record]) -> Paper:
    """Build the displayed paper from all records known for it."""
    if len(records) == 1:
        return _fold_one(paper_id, records[0])
    ranked = sorted(records, key=_rank, reverse=True)
    paper = Paper(id=paper_id)
    for name in _SCALARS:
        for record in ranked:
            value = getattr(record, name)
            if value:
                setattr(paper, name, value)
                if name == "published":
                    paper.date_inferred = record.date_inferred
                break

    complete = [r for r in ranked if r.authors and r.authors_complete]
    if complete:
        paper.authors, paper.authors_complete = list(complete[0].authors), True
        paper.author_count = len(paper.authors)
    else:
        partial = max((r for r in ranked if r.authors), key=lambda r: len(r.authors), default=None)
        paper.authors = list(partial.authors) if partial else []
        paper.authors_complete = not paper.authors and not any(r.author_count for r in ranked)
        counts = [r.author_count for r in ranked if r.author_count]
        paper.author_count = max(counts) if counts else None
        if paper.author_count is not None and paper.author_count < len(paper.authors):
            paper.author_count = len(paper.authors)

    paper.categories = next((list(r.categories) for r in ranked if r.categories), [])
    paper.organisations = _union(r.organisations for r in ranked)
    paper.links = _union(r.links for r in ranked)
    featured = [(r.featured, r.date_inferred) for r in ranked if r.featured]
    if featured:
        paper.featured, inferred = min(featured, key=lambda f: f[0])
        if paper.published is None:
            paper.date_inferred = inferred

    paper.versions = _versions(ranked)
    paper.version = paper.versions[-1].version if paper.versions else None
    paper.sources = sorted({r.source for r in ranked})
    extra: dict[str, Any] = {}
    for record in reversed(ranked):
        extra.update(record.extra)
    paper.extra = extra
    return paper


def _fold_one(paper_id: str, r: Record) -> Paper:
    """``fold`` for a paper with one record: the rule above with nothing to rank.

    Most papers of a bulk ingest have a single source, and this is several
    times faster than the general path (a test pins the two to each other).
    """
    published = r.published or None
    inferred = r.date_inferred if published else False
    if r.authors and r.authors_complete:
        authors, complete, count = list(r.authors), True, len(r.authors)
    else:
        authors = list(r.authors)
        complete = not authors and not r.author_count
        count = r.author_count or None
        if count is not None and count < len(authors):
            count = len(authors)
    featured = r.featured or None
    if featured and published is None:
        inferred = r.date_inferred
    versions = _versions((r,))
    return Paper(
        id=paper_id,
        arxiv_id=r.arxiv_id or None,
        doi=r.doi or None,
        title=r.title or None,
        abstract=r.abstract or None,
        authors=authors,
        authors_complete=complete,
        author_count=count,
        organisations=list(dict.fromkeys(r.organisations)),
        categories=list(r.categories),
        published=published,
        updated=r.updated or None,
        featured=featured,
        date_inferred=inferred,
        comment=r.comment or None,
        journal_ref=r.journal_ref or None,
        links=list(dict.fromkeys(r.links)),
        version=versions[-1].version if versions else None,
        versions=versions,
        sources=[r.source],
        extra=dict(r.extra),
    )


def _versions(ranked: Sequence[Record]) -> list[Version]:
    """The union of the records' versions by number; a dated copy beats an undated one."""
    versions: dict[int, Version] = {}
    for record in ranked:
        for v in record.versions:
            known = versions.get(v.version)
            if known is None or (known.date is None and v.date is not None):
                versions[v.version] = Version(v.version, v.date)
        if record.version and record.version not in versions:
            versions[record.version] = Version(record.version, None)
    return [versions[n] for n in sorted(versions)]


def _union(lists: Any) -> list[str]:
    seen: dict[str, None] = {}
    for values in lists:
        for value in values:
            seen.setdefault(value, None)
    return list(seen)
