"""The least CPU an ingest of N arXiv records can cost here: the parts no design can skip.

    python bench/ingest.py --n 100000          # builds the store this replays
    python bench/ingest_floor.py --n 100000

``bench/ingest.py`` measures the whole pipeline. This script measures, on
the same corpus, each unavoidable step *alone*, with nothing around it:

1. ``parse``: reading the lines and turning each into a ``Record``
   (``ArxivJsonl.parse_line``: JSON decoding and field clean-up, no keys,
   no serialisation);
2. ``store``: inserting only the rows a store must hold for these papers
   (the paper row, its source record, its author rows; the real schema from
   the migrations) as prebuilt tuples, 2,000 rows per transaction, copied
   from the store that ``bench/ingest.py`` built;
3. ``keys``: the two things every record needs before it can be merged
   (``ingest_parse.prepare``): its content hash, which makes re-ingest
   idempotent, with the stored JSON it is taken over, and its match keys
   (normalised title and abstract opening), which find its duplicates;
4. ``keyword``: tantivy indexing the papers' prebuilt documents with the
   real schema and analysis (``FulltextIndex``), all its threads counted.

Each step's CPU seconds are measured (``time.process_time``: every thread of
this process). Their sum divided by the cores is the shortest possible wall
time with perfect overlap, which bounds records/s from above. The gap between
that and the measured ingest is everything else: deciding matches, folding
papers, moving records between processes, the line memory for re-ingest.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import tantivy
from common import corpus_path, ingest_db, write

from paperlens.index.fulltext import _NAME_ANALYZER, WRITER_HEAP, FulltextIndex, _schema
from paperlens.ingest_parse import prepare
from paperlens.model import Paper, Record
from paperlens.sources import get_source
from paperlens.store import Store, open_store

_BATCH = 2000
_CHILDREN = {"records": "paper", "paper_authors": "paper"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None, help="store built by bench/ingest.py")
    args = parser.parse_args()
    corpus = corpus_path(args.n)
    built = args.db or ingest_db(args.n)
    if not corpus.exists() or not built.exists():
        raise SystemExit(f"run `python bench/ingest.py --n {args.n}` first ({built} is missing)")
    cores = os.cpu_count() or 1
    gc.disable()  # the steps allocate millions of objects that live until the end
    parse, records = parse_cpu(corpus)
    steps = {"parse": parse, "keys": keys_cpu(records)}
    del records  # a million of them would crowd out the next steps' data
    steps["store"] = store_cpu(built)
    steps["keyword"] = keyword_cpu(built)
    unstemmed = keyword_cpu(built, stem=False)  # what the stemmer costs: not part of the floor
    floor = sum(steps.values())
    best_wall = floor / cores
    result = {
        "records": args.n,
        "cores": cores,
        "cpu_s": {k: round(v, 2) for k, v in steps.items()},
        "keyword_without_stemming_cpu_s": round(unstemmed, 2),
        "floor_cpu_s": round(floor, 2),
        "best_wall_s": round(best_wall, 2),
        "max_records_per_s": round(args.n / best_wall),
        "budget_left_at_10k_per_s_us_per_record": round(
            (args.n / 10_000 * cores - floor) / args.n * 1e6, 1
        ),
    }
    path = write(f"ingest-floor-{args.n}", result)
    for key, value in result.items():
        print(f"{key:>42}: {value}")
    print(f"wrote {path}")


def parse_cpu(corpus: Path) -> tuple[float, list[Record]]:
    """CPU seconds to read every line and make its ``Record`` (and the records)."""
    source = get_source("arxiv-jsonl")
    started = time.process_time()
    with corpus.open("rb") as stream:
        kept = [
            source.parse_line(*item, str(corpus))
            for item in source.lines(stream, str(corpus))
            if isinstance(item, tuple)
        ]
    spent = time.process_time() - started
    return spent, [r for r in kept if isinstance(r, Record)]


def keys_cpu(records: list[Record]) -> float:
    """CPU seconds for the content hash and match keys of every record."""
    started = time.process_time()
    for record in records:
        prepare(record)
    return time.process_time() - started


def store_cpu(built: Path) -> float:
    """CPU seconds to insert the stored rows of these papers into an empty store."""
    source = sqlite3.connect(built)
    papers = source.execute("SELECT * FROM papers ORDER BY key").fetchall()
    # Rows of the other tables, grouped by the batch of papers they belong to.
    batch_of = {row[0]: n // _BATCH for n, row in enumerate(papers)}
    nbatches = len(papers) // _BATCH + 1
    children: dict[str, list[list[tuple]]] = {}
    for table, column in _CHILDREN.items():
        children[table] = [[] for _ in range(nbatches)]
        for row in source.execute(f"SELECT *, {column} FROM {table} ORDER BY rowid"):
            children[table][batch_of[row[-1]]].append(row[:-1])
    source.close()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "floor.db")
        conn = store.conn  # type: ignore[attr-defined]
        width = {"papers": len(papers[0])} | {t: len(b[0][0]) for t, b in children.items()}
        sql = {t: f"INSERT INTO {t} VALUES ({','.join('?' * n)})" for t, n in width.items()}
        started = time.process_time()
        for n in range(nbatches):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql["papers"], papers[n * _BATCH : (n + 1) * _BATCH])
            for table, batches in children.items():
                conn.executemany(sql[table], batches[n])
            conn.execute("COMMIT")
        spent = time.process_time() - started
        store.close()
    return spent


def keyword_cpu(built: Path, *, stem: bool = True) -> float:
    """CPU seconds for tantivy to index the papers' documents (built beforehand).

    ``stem=False`` indexes the same documents with title and body only lower-cased, to
    show what English stemming costs (search results would change without it).
    """
    store = open_store(built)
    with tempfile.TemporaryDirectory() as tmp:
        index = FulltextIndex(Path(tmp) / "keyword")
        if not stem:
            (Path(tmp) / "unstemmed").mkdir()
            index._index = tantivy.Index(_schema("default"), path=str(Path(tmp) / "unstemmed"))
            index._index.register_tokenizer("names", _NAME_ANALYZER)
        # The index's own document builder and writer settings, but not its feeding loop:
        # the floor is tantivy's work alone.
        documents = [index._document(key, paper) for key, _seq, paper in _all_papers(store)]
        writer = index._index.writer(heap_size=WRITER_HEAP, num_threads=2)
        started = time.process_time()
        for document in documents:
            writer.add_document(document)
        writer.commit()
        writer.wait_merging_threads()
        spent = time.process_time() - started
        shutil.rmtree(index.directory, ignore_errors=True)
    store.close()
    return spent


def _all_papers(store: Store) -> list[tuple[int, int, Paper]]:
    out: list[tuple[int, int, Paper]] = []
    seq = 0
    while rows := store.changed_since(seq, limit=10_000):
        out.extend(rows)
        seq = rows[-1][1]
    return out


if __name__ == "__main__":
    main()
