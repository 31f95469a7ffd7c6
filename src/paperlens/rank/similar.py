"""Similar papers for a paper, and related work for a draft or a reference list.

Both rank by cosine similarity of MiniLM embeddings (title + abstract). A draft
is embedded in chunks and averaged, because the model reads only its first
256 tokens of any one text; a ``.bib`` contributes the average of the vectors
of the papers it cites that the store knows. MMR (Carbonell & Goldstein, 1998)
optionally trades a little similarity for variety, so ten near-copies of one
idea do not fill the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paperlens.errors import InvalidQuery, NotFound
from paperlens.index.keyword import ParsedQuery
from paperlens.rank.fusion import by_similarity
from paperlens.rank.search import SearchResult, build_page
from paperlens.services import Services
from paperlens.text import title_key

CHUNK_CHARS = 1500
MAX_CHUNKS = 64
LONG_DRAFT = 100_000


@dataclass(slots=True)
class Related:
    results: list[SearchResult]
    notices: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)


def paper_vector(services: Services, key: int) -> np.ndarray:
    """The stored vector of a paper, embedding it now if it has none yet."""
    stored = services.store.embedding(services.model_name, key)
    if stored is not None:
        return np.frombuffer(stored, dtype="<f4")
    paper = services.store.papers([key])[0]
    from paperlens.embed.loader import paper_text

    return services.embedder.encode([paper_text(paper.title, paper.abstract)])[0]


def similar(services: Services, ref: str, *, limit: int = 10) -> list[SearchResult]:
    """Papers nearest to ``ref`` in meaning, never the paper itself or a copy of it."""
    key = services.store.resolve(ref)
    if key is None:
        raise NotFound(f"no paper {ref!r} in the store")
    me = services.store.papers([key])[0]
    vector = paper_vector(services, key)
    found = services.vectors.search(vector, limit + 25)
    others = services.store.papers_by_key([k for k, _ in found])
    mine = title_key(me.title) if me.title else None
    kept = []
    for k, sim in found:
        other = others.get(k)
        if k == key or other is None:
            continue
        if (me.arxiv_id and other.arxiv_id == me.arxiv_id) or (
            mine and other.title and title_key(other.title) == mine
        ):
            continue  # the same paper stored twice (e.g. before its sources were linked)
        kept.append((k, sim))
    ranked = by_similarity(kept[:limit])
    return build_page(services, ref, "similar", ParsedQuery(), ranked, len(ranked), 0).results


def related(
    services: Services,
    *,
    text: str | None = None,
    bib: Path | None = None,
    limit: int = 10,
    exclude_cited: bool = False,
    diversity: float = 0.0,
) -> Related:
    """Related work for a draft abstract and/or the references in a ``.bib`` file."""
    notices: list[str] = []
    parts: list[np.ndarray] = []
    if text is not None:
        if not text.strip():
            raise InvalidQuery("the draft is empty; give some text with --text or --file")
        chunks = _chunks(text)
        if len(text) >= LONG_DRAFT or len(chunks) > MAX_CHUNKS:
            used = min(len(chunks), MAX_CHUNKS)
            notices.append(
                f"long draft ({len(text):,} characters): read as {used} chunks of "
                f"~{CHUNK_CHARS} characters"
                + (
                    f"; the last {len(chunks) - MAX_CHUNKS} chunks were left out"
                    if len(chunks) > MAX_CHUNKS
                    else ""
                )
            )
            chunks = chunks[:MAX_CHUNKS]
        vectors = services.embedder.encode(chunks)
        parts.append(vectors.mean(axis=0))
    cited_keys: set[int] = set()
    if bib is not None:
        cited_keys, unknown = _cited(services, bib)
        if cited_keys:
            parts.append(np.mean([paper_vector(services, k) for k in cited_keys], axis=0))
        notices.append(
            f"{bib}: {len(cited_keys)} cited papers found in the store"
            + (f", {unknown} not in the store" if unknown else "")
        )
    if not parts:
        raise InvalidQuery(f"{bib}: none of its references are in the store; nothing to relate to")
    query = np.mean(parts, axis=0)
    query = query / (np.linalg.norm(query) or 1.0)
    index = services.vectors
    found = index.search(query, max(limit * 5, 50))
    if exclude_cited:
        found = [(k, s) for k, s in found if k not in cited_keys]
    if diversity > 0:
        found = _mmr(index, query, found, limit, 1.0 - diversity)
    found = found[:limit]
    ranked = by_similarity(found)
    results = build_page(services, "related", "related", ParsedQuery(), ranked, len(ranked), 0)
    for result in results.results:
        result.explain["cited"] = result.key in cited_keys
    return Related(results.results, notices, [str(k) for k in cited_keys])


def _chunks(text: str) -> list[str]:
    """Split on paragraph breaks, packing paragraphs into chunks of ~CHUNK_CHARS."""
    chunks, current = [], ""
    for para in (p.strip() for p in text.split("\n\n")):
        while len(para) > CHUNK_CHARS:
            cut = para.rfind(" ", 0, CHUNK_CHARS)
            cut = cut if cut > 0 else CHUNK_CHARS
            if current:
                chunks.append(current)
                current = ""
            chunks.append(para[:cut])
            para = para[cut:].strip()
        if len(current) + len(para) > CHUNK_CHARS and current:
            chunks.append(current)
            current = ""
        current = f"{current}\n\n{para}".strip() if para else current
    if current:
        chunks.append(current)
    return chunks


def _cited(services: Services, bib: Path) -> tuple[set[int], int]:
    """Store keys of the papers a ``.bib`` cites, and how many it cites that are unknown."""
    from paperlens.merge.match import KINDS, record_keys
    from paperlens.model import Record
    from paperlens.sources.bibtex import Bibtex

    with bib.open("rb") as f:
        records = [r for r in Bibtex().parse(f, str(bib)) if isinstance(r, Record)]
    keys: set[int] = set()
    unknown = 0
    for record in records:
        rkeys = record_keys(record)
        hit = None
        for kind in KINDS[:3]:  # arXiv id, DOI, title: the abstract is rarely in a .bib
            if kind in rkeys:
                cands = services.store.candidates(kind, [rkeys[kind]]).get(rkeys[kind])
                if cands:
                    hit = cands[0].key
                    break
        if hit is None:
            unknown += 1
        else:
            keys.add(hit)
    return keys, unknown


def _mmr(
    index: object, query: np.ndarray, found: list[tuple[int, float]], limit: int, lam: float
) -> list[tuple[int, float]]:
    """Maximal marginal relevance over ``found`` (keys with similarity to the query)."""
    vectors = {k: index.get(k) for k, _ in found}  # type: ignore[attr-defined]
    pool = [(k, s) for k, s in found if vectors[k] is not None]
    chosen: list[tuple[int, float]] = []
    while pool and len(chosen) < limit:

        def gain(item: tuple[int, float]) -> float:
            if not chosen:
                return item[1]
            redundancy = max(float(vectors[item[0]] @ vectors[c]) for c, _ in chosen)
            return lam * item[1] - (1 - lam) * redundancy

        best = max(pool, key=gain)
        chosen.append(best)
        pool.remove(best)
    return chosen
