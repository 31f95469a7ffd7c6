"""Run an evaluation set through search, score it, and write TREC run files.

Every query goes through :func:`paperlens.rank.search.search`, the function
the CLI, the web pages and the API call, with the query text exactly as
given, so the numbers measure what users get. Each result paper is mapped to
the document ids the judgments use (paperlens ids for the dev set, BEIR
``_id``s for a BEIR collection) by a ``doc_ids`` function.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from paperlens.errors import InvalidQuery
from paperlens.evaluation.metrics import mean, per_query
from paperlens.evaluation.qrels import QrelSet
from paperlens.model import Paper
from paperlens.services import Services

DEPTH = 100
"""Results fetched per query and mode, and written to run files."""

DocIds = Callable[[Paper], Sequence[str]]
"""The judged document ids a result paper stands for (usually one; none to drop it)."""

ProgressFn = Callable[[int, int], None]


def paperlens_ids(paper: Paper) -> Sequence[str]:
    """Dev-set documents are named by their paperlens id."""
    return (paper.id,)


@dataclass(slots=True)
class Run:
    """One mode's rankings: query id -> [(doc id, score)], best first."""

    mode: str
    rankings: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def doc_ids(self) -> dict[str, list[str]]:
        return {qid: [doc for doc, _ in ranked] for qid, ranked in self.rankings.items()}


def run_mode(
    services: Services,
    qset: QrelSet,
    mode: str,
    *,
    doc_ids: DocIds = paperlens_ids,
    depth: int = DEPTH,
    on_query: Callable[[], None] | None = None,
) -> Run:
    """Search every query of ``qset`` in ``mode``; a malformed query ranks nothing."""
    from paperlens.rank.search import search

    run = Run(mode)
    started = time.perf_counter()
    for query in qset.queries:
        t0 = time.perf_counter()
        try:
            page = search(services, query.text, mode=mode, limit=depth, snippets=False)  # type: ignore[arg-type]
        except InvalidQuery as exc:
            run.errors[query.id] = str(exc)
            run.rankings[query.id] = []
        else:
            ranked: list[tuple[str, float]] = []
            seen: set[str] = set()
            for result in page.results:
                for doc in doc_ids(result.paper):
                    if doc not in seen:
                        seen.add(doc)
                        ranked.append((doc, float(result.score)))
            run.rankings[query.id] = ranked[:depth]
        run.latencies_ms.append((time.perf_counter() - t0) * 1000)
        if on_query:
            on_query()
    run.seconds = time.perf_counter() - started
    return run


@dataclass(slots=True)
class ModeScores:
    """Mean metrics of one run, over all queries and per query type."""

    mode: str
    overall: dict[str, float]
    by_type: dict[str, dict[str, float]]
    queries: dict[str, int]
    """Scored queries (those with a relevant judgment), overall (``all``) and per type."""
    per_query: dict[str, dict[str, float]]
    """metric -> query id -> value."""
    errors: dict[str, str]
    seconds: float
    latency_ms: dict[str, float]

    def to_json(self, *, with_queries: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "mode": self.mode,
            "overall": _rounded(self.overall),
            "by_type": {t: _rounded(m) for t, m in self.by_type.items()},
            "queries": self.queries,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "latency_ms": _rounded(self.latency_ms, 2),
        }
        if with_queries:
            data["per_query"] = {m: _rounded(v) for m, v in self.per_query.items()}
        return data


def score_run(run: Run, qset: QrelSet, metrics: Sequence[str]) -> ModeScores:
    """Mean of each metric over the scored queries, overall and per query type."""
    ranked = run.doc_ids()
    values = {m: per_query(m, ranked, qset.qrels, min_rel=qset.min_rel) for m in metrics}
    scored = next(iter(values.values())).keys() if values else set()
    types = {q.id: q.type for q in qset.queries}
    by_type: dict[str, dict[str, float]] = {}
    counts = {"all": len(scored)}
    for qtype in qset.types:
        ids = [qid for qid in scored if types.get(qid) == qtype]
        if not ids:
            continue
        counts[qtype] = len(ids)
        by_type[qtype] = {m: mean([values[m][qid] for qid in ids]) for m in metrics}
    lat = sorted(run.latencies_ms)
    latency = (
        {
            "p50": statistics.median(lat),
            "p95": lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))],
            "mean": statistics.fmean(lat),
        }
        if lat
        else {}
    )
    return ModeScores(
        mode=run.mode,
        overall={m: mean(values[m]) for m in metrics},
        by_type=by_type,
        queries=counts,
        per_query=values,
        errors=dict(run.errors),
        seconds=run.seconds,
        latency_ms=latency,
    )


def evaluate(
    services: Services,
    qset: QrelSet,
    modes: Sequence[str],
    metrics: Sequence[str],
    *,
    doc_ids: DocIds = paperlens_ids,
    depth: int = DEPTH,
    on_progress: ProgressFn | None = None,
) -> tuple[list[Run], list[ModeScores]]:
    """Run and score ``qset`` in every mode; ``on_progress(done, total)`` per query."""
    total = len(qset.queries) * len(modes)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if on_progress:
            on_progress(done, total)

    runs = [
        run_mode(services, qset, mode, doc_ids=doc_ids, depth=depth, on_query=tick)
        for mode in modes
    ]
    return runs, [score_run(run, qset, metrics) for run in runs]


def write_trec_run(runs: Iterable[Run], stream: IO[str], *, depth: int = DEPTH) -> int:
    """Write ``qid Q0 docid rank score tag`` lines (tag = the mode); returns lines written.

    Ranks start at 1 and follow paperlens' order. Scores are the search
    scores; tools such as trec_eval re-sort by score, so where two results tie
    they may swap places there.
    """
    lines = 0
    for run in runs:
        for qid, ranked in run.rankings.items():
            for rank, (doc, score) in enumerate(ranked[:depth], start=1):
                stream.write(f"{qid} Q0 {doc} {rank} {score:.6f} {run.mode}\n")
                lines += 1
    return lines


def read_trec_run(stream: IO[str]) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """Parse a TREC run file back into tag -> query id -> [(doc id, score)] in rank order."""
    rows: dict[str, dict[str, list[tuple[int, str, float]]]] = {}
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 6:
            raise ValueError(f"line {number}: expected 'qid Q0 docid rank score tag'")
        qid, _q0, doc, rank, score, tag = parts
        rows.setdefault(tag, {}).setdefault(qid, []).append((int(rank), doc, float(score)))
    return {
        tag: {qid: [(d, s) for _r, d, s in sorted(items)] for qid, items in queries.items()}
        for tag, queries in rows.items()
    }


def _rounded(values: dict[str, float], places: int = 4) -> dict[str, float]:
    return {k: round(v, places) for k, v in values.items()}
