"""Search: one entry point for keyword, semantic and hybrid ranking.

The CLI, the web pages and the JSON API all call :func:`search`, so they
cannot disagree about what a query means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from paperlens.index.keyword import parse_query
from paperlens.model import Paper
from paperlens.rank.snippet import Segment, matched_terms, snippet
from paperlens.services import Services

Mode = Literal["keyword", "semantic", "hybrid"]
MODES: tuple[str, ...] = ("keyword", "semantic", "hybrid")


@dataclass(slots=True)
class SearchResult:
    """A paper in a result list, with its score and the reasons for it."""

    paper: Paper
    score: float
    snippet: list[Segment] = field(default_factory=list)
    explain: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = self.paper.to_json()
        for name in ("claims", "signals", "extra"):
            data.pop(name, None)
        data["score"] = round(self.score, 6)
        data["snippet"] = "".join(f"[{t}]" if hit else t for t, hit in self.snippet)
        data["explain"] = self.explain
        return data


@dataclass(slots=True)
class SearchPage:
    """One page of results and how many matched in all."""

    query: str
    mode: str
    total: int
    results: list[SearchResult]

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "mode": self.mode,
            "total": self.total,
            "results": [r.to_json() for r in self.results],
        }


def search(
    services: Services,
    query: str,
    *,
    mode: Mode = "keyword",
    limit: int = 10,
    offset: int = 0,
    match_all: bool = False,
) -> SearchPage:
    """Rank papers for ``query``; raises ``InvalidQuery`` for a malformed filter."""
    parsed = parse_query(query)
    index = services.fulltext
    hits, total = index.search(parsed, limit=limit, offset=offset, match_all=match_all)
    by_key = services.store.papers_by_key([h.key for h in hits])
    stems = index.stems([*parsed.words, *parsed.required, *parsed.phrases, *parsed.titles])
    results = []
    for rank, hit in enumerate(hits, start=offset + 1):
        paper = by_key.get(hit.key)
        if paper is None:
            continue
        text = f"{paper.title or ''} {paper.abstract or ''}"
        results.append(
            SearchResult(
                paper=paper,
                score=hit.score,
                snippet=snippet(paper.abstract or "", stems, index.terms.analyze),
                explain={
                    "matched_terms": matched_terms(text, stems, index.terms.analyze),
                    "keyword": {"rank": rank, "bm25": round(hit.score, 4)},
                },
            )
        )
    return SearchPage(query=query, mode=mode, total=total, results=results)
