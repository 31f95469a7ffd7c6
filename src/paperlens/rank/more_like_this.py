"""Papers similar to a paper: the semantic ranker when it exists, else keyword more-like-this.

``similar_to`` is the one entry point for the paper page and ``/api/v1/papers/{id}/similar``.
When the store holds embeddings, ``paperlens.rank.similar.similar`` ranks by
meaning; otherwise (no embeddings yet, or the model cannot load) a keyword
query built from the paper's own distinctive words (title words weighted
twice, the abstract's most frequent non-stopwords) finds papers sharing its
vocabulary, the classic "more like this".
"""

from __future__ import annotations

import collections
import logging
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from paperlens.index.keyword import ParsedQuery
from paperlens.model import Paper

if TYPE_CHECKING:
    from paperlens.index.fulltext import FulltextIndex
    from paperlens.services import Services

logger = logging.getLogger(__name__)
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z-]{2,}")
_TERMS = 10
_MAX_DF = 0.1
_MIN_CAP = 1000  # small stores: every word may count


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


def semantic_ready(services: Services) -> bool:
    """True when this store holds embeddings for the configured model (no model load)."""
    any_embedding = getattr(services.store, "any_embedding", None)
    if any_embedding is None:
        return False
    try:
        return any_embedding(services.model_name) is not None
    except Exception:  # an older store without the embeddings table
        return False


def _semantic(services: Services, paper_key: int, *, limit: int) -> list[Similar] | None:
    """Nearest papers by embedding (``rank.similar``), or None when not available here."""
    if not semantic_ready(services):
        return None
    try:
        from paperlens.rank.similar import similar
    except ImportError:
        return None
    papers = services.store.papers_by_key([paper_key])
    if paper_key not in papers:
        return None
    try:
        found = similar(services, papers[paper_key].id, limit=limit)
    except Exception as exc:  # the model or the vectors may be unavailable here
        logger.info("semantic similar unavailable (%s); using keyword more-like-this", exc)
        return None
    return [Similar(r.paper, float(r.score), "semantic", dict(r.explain)) for r in found]


def distinctive_words(index: FulltextIndex, paper: Paper, *, terms: int = _TERMS) -> list[str]:
    """The paper's words that best tell it apart: tf × idf, the classic MLT choice.

    Title words count twice, and a word must occur twice (Lucene's
    ``minTermFreq``) so one stray abstract word cannot steer the result. Words
    in more than ``_MAX_DF`` of all papers (in stores big enough for that to
    matter), in every paper, or in none, are skipped: common words match half
    the corpus, which makes the query slow (every posting is scored) and the
    result vague.
    """
    counts: collections.Counter[str] = collections.Counter()
    for word in _WORD_RE.findall(paper.title or ""):
        counts[word.lower()] += 2
    for word in _WORD_RE.findall(paper.abstract or ""):
        counts[word.lower()] += 1
    candidates: dict[str, tuple[str, int]] = {}  # stem -> (word, tf)
    for word, tf in counts.items():
        stems = index.query_terms.analyze(word) if tf >= 2 else []
        if stems and stems[0] not in candidates:
            candidates[stems[0]] = (word, tf)
    total, freqs = index.document_frequencies(list(candidates))
    total = max(total, 1)
    max_df = max(_MAX_DF * total, _MIN_CAP)
    weighted: dict[str, float] = {}
    for stem, (word, tf) in candidates.items():
        df = freqs[stem]
        if df == 0 or df > max_df or (df == total and total > 1):
            continue
        weighted[word] = tf * math.log(total / df)
    return sorted(weighted, key=lambda w: -weighted[w])[:terms]


def more_like_this(services: Services, paper_key: int, *, limit: int = 8) -> list[Similar]:
    """Keyword fallback: BM25 over the paper's distinctive words."""
    by_key = services.store.papers_by_key([paper_key])
    paper = by_key.get(paper_key)
    if paper is None:
        return []
    index = services.fulltext
    words = distinctive_words(index, paper)
    if not words:
        return []
    hits, _total = index.search(ParsedQuery(words=words), limit=limit + 1)
    keys = [h.key for h in hits if h.key != paper_key][:limit]
    papers = services.store.papers_by_key(keys)
    scores = {h.key: h.score for h in hits}
    return [Similar(papers[k], scores[k], "keyword", {"terms": words}) for k in keys if k in papers]
