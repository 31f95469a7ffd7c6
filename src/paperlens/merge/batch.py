"""Merging one batch of prepared records into the store.

Split from ``ingest`` (which reads inputs and commits batches) because this
is the part that decides: which stored paper a record belongs to (match
keys, then ``same_paper``), which papers it creates, and what each paper
then displays (``fold``). The caller holds the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from paperlens.ids import paper_id_for
from paperlens.ingest_parse import Known, Prepared
from paperlens.merge.fold import fold
from paperlens.merge.match import KINDS, candidate_of, same_paper
from paperlens.model import Paper, Record
from paperlens.store import Candidate, Store

if TYPE_CHECKING:
    from paperlens.ingest import IngestReport


class KnownLineGone(Exception):
    """A line remembered as stored no longer is: an earlier line of this run replaced
    its record, so the batch must be read again with every line parsed."""


@dataclass(slots=True)
class _Group:
    key: int | None  # stored key, or None for a paper new in this batch
    paper_id: str
    records: list[Record] = field(default_factory=list)
    match_keys: tuple[str | None, str | None] | None = None  # of a paper new in this batch


def apply_prepared(
    store: Store, batch: Sequence[Prepared | Known], report: IngestReport
) -> list[tuple[int, int, Paper]]:
    """Merge and store prepared records; returns ``(key, seq, paper)`` of each paper written.

    The caller holds the transaction.
    """
    if not batch:
        return []
    now = datetime.now(UTC)
    now_text = now.isoformat()
    seen = store.seen_hashes([p.digest for p in batch])
    fresh: list[Prepared] = []
    lines: list[tuple[int, int, bytes, str]] = []
    for item in batch:
        if item.digest in seen:
            report.unchanged += 1
        elif isinstance(item, Known):
            raise KnownLineGone
        else:
            seen.add(item.digest)
            fresh.append(item)
        if isinstance(item, Prepared) and item.line:
            lines.append((*item.line, item.digest))
    if lines:
        store.remember_lines(lines)
    if not fresh:
        return []

    stored = {
        kind: store.candidates(kind, [p.keys[kind] for p in fresh if kind in p.keys])
        for kind in KINDS
    }
    local: dict[str, dict[str, list[Candidate]]] = {kind: {} for kind in KINDS}
    groups: dict[int, _Group] = {}
    stored_form: dict[int, tuple[str, str, str]] = {}
    next_temp = -1
    for record, text, digest, rkeys, paper_keys, _line in fresh:
        stored_form[id(record)] = (
            (record.observed_at.isoformat(), text, digest)
            if record.observed_at
            else (now_text, text, digest)
        )
        if record.observed_at is None:
            record.observed_at = now
        target = _find(record, rkeys, local, stored)
        if target is None:
            gid, next_temp = next_temp, next_temp - 1
            groups[gid] = _Group(None, _natural_id(record), match_keys=paper_keys)
            report.new += 1
        else:
            gid = target.key
            if gid not in groups:
                groups[gid] = _Group(target.key, target.id)
            report.merged += 1
        group = groups[gid]
        group.records.append(record)
        cand = candidate_of(record, rkeys, gid, group.paper_id)
        for kind, value in rkeys.items():
            local[kind].setdefault(value, []).insert(0, cand)

    _settle_new_ids(store, groups)
    existing = [g.key for g in groups.values() if g.key is not None]
    old_records = store.records_of(existing) if existing else {}
    old_papers = {p.id: p for p in store.papers(existing)} if existing else {}
    items = []
    match_keys = []
    for group in groups.values():
        records = old_records.get(group.key, []) if group.key is not None else []
        paper = fold(group.paper_id, [*records, *group.records])
        if group.key is not None:
            before = old_papers.get(group.paper_id)
            if before is None or _displayed(before) != _displayed(paper):
                report.updated += 1
        items.append((group.key, paper))
        match_keys.append(group.match_keys if len(group.records) == 1 else None)
    seq = store.next_seq()
    keys = store.save_papers(items, seq, match_keys=match_keys)
    rows = []
    for key, group in zip(keys, groups.values(), strict=True):
        for record in group.records:
            rows.append((key, record, *stored_form[id(record)]))
            if record.signals:
                report.signals += store.add_signals(key, record.signals)
    store.save_records(rows)
    return [
        (key, seq + n, paper) for n, (key, (_k, paper)) in enumerate(zip(keys, items, strict=True))
    ]


def _find(
    record: Record,
    rkeys: dict[str, str],
    local: dict[str, dict[str, list[Candidate]]],
    stored: dict[str, dict[str, list[Candidate]]],
) -> Candidate | None:
    for kind in KINDS:
        value = rkeys.get(kind)
        if value is None:
            continue
        for cand in (*local[kind].get(value, ()), *stored[kind].get(value, ())):
            if same_paper(kind, record, rkeys, cand):
                return cand
    return None


def _natural_id(record: Record, attempt: int = 0) -> str:
    """A stable id from the record's strongest natural key (``#n`` only on a hash clash)."""
    base = f"arxiv:{record.arxiv_id}" if record.arxiv_id else f"{record.source}:{record.source_key}"
    return paper_id_for(base if attempt == 0 else f"{base}#{attempt}")


def _settle_new_ids(store: Store, groups: dict[int, _Group]) -> None:
    """Make the ids of new papers unique against the store and the batch."""
    new = [g for g in groups.values() if g.key is None]
    taken = store.existing_ids([g.paper_id for g in new])
    used = {g.paper_id for g in groups.values() if g.key is not None}
    for group in new:
        attempt = 0
        while group.paper_id in taken or group.paper_id in used:
            attempt += 1
            group.paper_id = _natural_id(group.records[0], attempt)
        used.add(group.paper_id)


def _displayed(paper: Any) -> dict[str, Any]:
    data: dict[str, Any] = paper.to_json()
    for name in ("claims", "signals", "extra"):
        data.pop(name, None)
    return data
