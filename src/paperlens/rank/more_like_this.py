"""Papers similar to a paper: the semantic ranker when it exists, else keyword more-like-this.

``similar_to`` is the one entry point for the paper page and ``/api/v1/papers/{id}/similar``.
When ``paperlens.rank.similar`` provides ``similar(services, paper_key, *, limit)``
returning ``Scored``-like items (``paper_id``/``score``/``reasons``), it is used;
until then a keyword query built from the paper's own distinctive words
(title words weighted twice, the abstract's most frequent non-stopwords)
finds papers sharing its vocabulary, the classic "more like this".
"""

from __future__ import annotations

import collections
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from paperlens.index.keyword import ParsedQuery
from paperlens.model import Paper

if TYPE_CHECKING:
    from paperlens.services import Services

logger = logging.getLogger(__name__)
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z-]{2,}")
_TERMS = 12


@dataclass(slots=True)
class Similar:
    """A similar paper, its score and how it was found."""

    paper: Paper
    score: float
    method: str
    reasons: dict[str, Any] = field(default_factory=dict)


def similar_to(services: Services, paper_key: int, *, limit: int = 8) -> list[Similar]:
    """Papers like ``paper_key``, best first, never the paper itself."""
    semantic = _semantic(services, paper_key, limit=limit)
    if semantic is not None:
        return semantic
    return more_like_this(services, paper_key, limit=limit)


def _semantic(services: Services, paper_key: int, *, limit: int) -> list[Similar] | None:
    try:
        from paperlens.rank import similar as semantic  # type: ignore[attr-defined]
    except ImportError:
        return None
    find = getattr(semantic, "similar", None)
    if find is None:
        return None
    try:
        found = find(services, paper_key, limit=limit)
    except Exception as exc:  # the model or vectors may be unavailable here
        logger.info("semantic similar unavailable (%s); using keyword more-like-this", exc)
        return None
    ids = [getattr(s, "paper_id", None) for s in found]
    keys = {i: services.store.resolve(i) for i in ids if i}
    papers = services.store.papers_by_key([k for k in keys.values() if k is not None])
    out = []
    for s in found:
        key = keys.get(getattr(s, "paper_id", ""))
        if key is not None and key in papers and key != paper_key:
            out.append(Similar(papers[key], float(s.score), "semantic", dict(s.reasons)))
    return out


def more_like_this(services: Services, paper_key: int, *, limit: int = 8) -> list[Similar]:
    """Keyword fallback: BM25 over the paper's distinctive words."""
    by_key = services.store.papers_by_key([paper_key])
    paper = by_key.get(paper_key)
    if paper is None:
        return []
    index = services.fulltext
    counts: collections.Counter[str] = collections.Counter()
    for word in _WORD_RE.findall(paper.title or ""):
        counts[word.lower()] += 2
    for word in _WORD_RE.findall(paper.abstract or ""):
        counts[word.lower()] += 1
    words = [w for w, _ in counts.most_common() if index.query_terms.analyze(w)][:_TERMS]
    if not words:
        return []
    hits, _total = index.search(ParsedQuery(words=words), limit=limit + 1)
    keys = [h.key for h in hits if h.key != paper_key][:limit]
    papers = services.store.papers_by_key(keys)
    scores = {h.key: h.score for h in hits}
    return [Similar(papers[k], scores[k], "keyword", {"terms": words}) for k in keys if k in papers]
