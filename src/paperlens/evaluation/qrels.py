"""Evaluation sets: queries and graded relevance judgments.

Two on-disk shapes are read:

- **paperlens dev qrels** (``eval/dev-qrels.json``): one JSON document with a
  list of queries, each with an ``id``, a ``type`` (``keyword``, ``question``,
  ``paraphrase``, ``draft``), the query ``text`` and ``judgments``, each naming
  a paper by its paperlens id (``paper``) with a ``grade`` from 0 to 3 (and,
  for human readers, ``arxiv`` and ``title``, which are not used here).
- **BEIR** collections: ``queries.jsonl`` (``{"_id", "text", "metadata"}`` per
  line) and ``qrels/<split>.tsv`` (``query-id<TAB>corpus-id<TAB>score`` after a
  header line). BEIR ships the TSV with Windows line endings, so ``\\r`` is
  stripped. Only the queries named in the split's qrels are kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperlens.errors import ConfigError

DEV_QUERY_TYPES = ("keyword", "question", "paraphrase", "draft")
MAX_GRADE = 3


@dataclass(frozen=True, slots=True)
class Query:
    """One evaluation query."""

    id: str
    text: str
    type: str = "all"


@dataclass(slots=True)
class QrelSet:
    """Queries with their judgments: ``qrels[query id][document id] = grade``."""

    name: str
    queries: list[Query]
    qrels: dict[str, dict[str, int]]
    min_rel: int = 1
    """The lowest grade that counts as relevant for Recall and MRR."""
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def types(self) -> list[str]:
        """The query types in first-seen order."""
        return list(dict.fromkeys(q.type for q in self.queries))


def load_dev_qrels(path: Path) -> QrelSet:
    """Read a paperlens qrels JSON file; ``ConfigError`` names what is wrong and where."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read qrels ({exc.strerror})") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not a JSON qrels file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("queries"), list):
        raise ConfigError(f"{path}: expected an object with a 'queries' list")
    min_rel = data.get("relevant_min", 1)
    if not isinstance(min_rel, int) or not 1 <= min_rel <= MAX_GRADE:
        raise ConfigError(f"{path}: 'relevant_min' must be an integer from 1 to {MAX_GRADE}")
    queries: list[Query] = []
    qrels: dict[str, dict[str, int]] = {}
    for n, item in enumerate(data["queries"], start=1):
        where = f"{path}: query {n}"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected an object")
        qid, text, qtype = item.get("id"), item.get("text"), item.get("type", "all")
        if not isinstance(qid, str) or not qid:
            raise ConfigError(f"{where}: no 'id' string")
        if qid in qrels:
            raise ConfigError(f"{where}: duplicate id {qid!r}")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{where} ({qid}): no 'text'")
        if not isinstance(qtype, str):
            raise ConfigError(f"{where} ({qid}): 'type' must be a string")
        judged: dict[str, int] = {}
        for j in item.get("judgments", []):
            doc = j.get("paper") if isinstance(j, dict) else None
            grade = j.get("grade") if isinstance(j, dict) else None
            if not isinstance(doc, str) or not doc:
                raise ConfigError(f"{where} ({qid}): a judgment has no 'paper' id")
            if isinstance(grade, bool) or not isinstance(grade, int):
                raise ConfigError(f"{where} ({qid}): grade of {doc} is not an integer")
            if not 0 <= grade <= MAX_GRADE:
                raise ConfigError(f"{where} ({qid}): grade of {doc} is {grade}, not 0-{MAX_GRADE}")
            if doc in judged:
                raise ConfigError(f"{where} ({qid}): {doc} is judged twice")
            judged[doc] = grade
        queries.append(Query(qid, text.strip(), qtype))
        qrels[qid] = judged
    return QrelSet(
        name=str(data.get("name") or path.stem),
        queries=queries,
        qrels=qrels,
        min_rel=min_rel,
        notes={k: v for k, v in data.items() if k not in ("queries", "relevant_min")},
    )


def read_qrels_tsv(path: Path) -> dict[str, dict[str, int]]:
    """BEIR/TREC-style ``query-id corpus-id score`` rows (tab-separated, header optional)."""
    qrels: dict[str, dict[str, int]] = {}
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read qrels ({exc.strerror})") from None
    text = raw.decode("utf-8-sig")
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) == 4:  # TREC qrels: qid iteration docid grade
            parts = [parts[0], parts[2], parts[3]]
        if len(parts) != 3:
            raise ConfigError(f"{path}: line {number}: expected query-id, corpus-id, score")
        qid, doc, score = (p.strip() for p in parts)
        try:
            grade = int(score)
        except ValueError:
            if number == 1:  # the header: query-id corpus-id score
                continue
            raise ConfigError(f"{path}: line {number}: score {score!r} is not an integer") from None
        qrels.setdefault(qid, {})[doc] = grade
    return qrels


def read_queries_jsonl(path: Path) -> dict[str, str]:
    """``{"_id": ..., "text": ...}`` per line -> ``{id: text}``."""
    queries: dict[str, str] = {}
    try:
        lines = path.read_bytes().decode("utf-8-sig").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read queries ({exc.strerror})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{path}: line {number}: not JSON ({exc})") from None
        if not isinstance(doc, dict) or "_id" not in doc or not isinstance(doc.get("text"), str):
            raise ConfigError(f"{path}: line {number}: expected an object with _id and text")
        queries[str(doc["_id"])] = doc["text"]
    return queries


def load_beir(directory: Path, split: str = "test") -> QrelSet:
    """The queries and judgments of one split of a BEIR collection directory."""
    qrels_path = directory / "qrels" / f"{split}.tsv"
    queries_path = directory / "queries.jsonl"
    for needed in (queries_path, qrels_path):
        if not needed.is_file():
            raise ConfigError(f"{directory}: not a BEIR collection (no {needed.name} at {needed})")
    qrels = read_qrels_tsv(qrels_path)
    texts = read_queries_jsonl(queries_path)
    missing = sorted(set(qrels) - set(texts))
    if missing:
        raise ConfigError(
            f"{qrels_path}: {len(missing)} query ids have no text in {queries_path.name} "
            f"(first: {missing[0]})"
        )
    queries = [Query(qid, texts[qid], "all") for qid in qrels]
    name = directory.resolve().name
    return QrelSet(name=f"{name}/{split}", queries=queries, qrels=qrels, min_rel=1)
