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

    versions: dict[int, Version] = {}
    for record in ranked:
        for v in record.versions:
            known = versions.get(v.version)
            if known is None or (known.date is None and v.date is not None):
                versions[v.version] = Version(v.version, v.date)
        if record.version and record.version not in versions:
            versions[record.version] = Version(record.version, None)
    paper.versions = [versions[n] for n in sorted(versions)]
    paper.version = max(versions) if versions else None
    paper.sources = sorted({r.source for r in ranked})
    extra: dict[str, Any] = {}
    for record in reversed(ranked):
        extra.update(record.extra)
    paper.extra = extra
    return paper


def _union(lists: Any) -> list[str]:
    seen: dict[str, None] = {}
    for values in lists:
        for value in values:
            seen.setdefault(value, None)
    return list(seen)
