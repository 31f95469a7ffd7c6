"""``paperlens eval``: score search on the development qrels or on a BEIR collection."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from paperlens.cli.app import (
    DbOption,
    JsonOption,
    app,
    err,
    fail,
    keyword_sync,
    out,
    print_json,
    progress_bar,
    services_for,
)
from paperlens.evaluation.runner import DEPTH, ModeScores, Run, evaluate, write_trec_run
from paperlens.rank.search import MODES
from paperlens.services import Services

DEV_METRICS = ("ndcg@10", "recall@20", "mrr@10")
BEIR_METRICS = ("ndcg@10", "recall@100", "mrr@10")


@app.command("eval")
def eval_command(
    qrels: Annotated[
        Path | None,
        typer.Option("--qrels", help="A paperlens qrels JSON file, e.g. eval/dev-qrels.json."),
    ] = None,
    beir: Annotated[
        Path | None,
        typer.Option("--beir", help="A BEIR collection directory (corpus.jsonl, queries, qrels/)."),
    ] = None,
    split: Annotated[str, typer.Option("--split", help="BEIR qrels split to score.")] = "test",
    modes: Annotated[
        str, typer.Option("--modes", help="Comma-separated search modes to score.")
    ] = ",".join(MODES),
    run_out: Annotated[
        Path | None,
        typer.Option("--run-out", help=f"Write a TREC run file (top {DEPTH} per query and mode)."),
    ] = None,
    root: Annotated[
        Path,
        typer.Option("--root", help="Checkout holding the sample corpus (--qrels, empty db)."),
    ] = Path("."),
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score search quality: nDCG@10, Recall and MRR@10 per mode (and per query type).

    With --qrels the development set is scored over the sample corpus, which is
    ingested first if the database is empty. With --beir the collection is
    ingested (or reused) in its own database, by default under
    $XDG_DATA_HOME/paperlens/beir/.
    """
    if (qrels is None) == (beir is None):
        fail("give exactly one of --qrels FILE or --beir DIR", code=2)
    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in MODES]
    if unknown or not chosen:
        fail(f"unknown mode {', '.join(unknown) or '(none)'}; use {', '.join(MODES)}", code=2)
    started = time.perf_counter()
    if beir is not None:
        _eval_beir(beir, split, chosen, db, run_out, as_json=as_json, started=started)
    else:
        assert qrels is not None
        _eval_dev(qrels, chosen, db, run_out, root, as_json=as_json, started=started)


def _eval_dev(
    path: Path,
    modes: list[str],
    db: Path | None,
    run_out: Path | None,
    root: Path,
    *,
    as_json: bool,
    started: float,
) -> None:
    from paperlens.cli.demo import SAMPLE_DIRS
    from paperlens.evaluation.qrels import load_dev_qrels
    from paperlens.ingest import ingest

    with services_for(db) as services:
        qset = load_dev_qrels(path)
        if services.store.count() == 0:
            inputs = [root / d for d in SAMPLE_DIRS if (root / d).exists()]
            if not inputs:
                fail(f"the database is empty and {root} holds no sample corpus; use --root", code=2)
            err.print(f"Empty database: ingesting the sample corpus into {services.settings.db}")
            ingest(services.store, inputs, batch_size=services.settings.batch_size)
        keyword_sync(services, quiet=as_json)
        judged = {doc for docs in qset.qrels.values() for doc in docs}
        missing = sorted(doc for doc in judged if services.store.key_of(doc) is None)
        if missing:
            err.print(
                f"[yellow]warning:[/] {len(missing)} judged papers are not in "
                f"{services.settings.db} (first: {missing[0]}); is this the sample corpus?"
            )
        modes = _ready_modes(services, modes, quiet=as_json)
        runs, scores = _run(services, qset, modes, DEV_METRICS, None, quiet=as_json)
    _finish(qset.name, services.settings.db, runs, scores, run_out, as_json, started,
            extra={"missing_judged_papers": len(missing)})  # fmt: skip


def _eval_beir(
    directory: Path,
    split: str,
    modes: list[str],
    db: Path | None,
    run_out: Path | None,
    *,
    as_json: bool,
    started: float,
) -> None:
    from paperlens.evaluation.beir import BeirIds, default_db, ingest_corpus
    from paperlens.evaluation.qrels import load_beir

    if not directory.is_dir():
        fail(f"no such directory: {directory}", code=2)
    db = db or default_db(directory)
    db.parent.mkdir(parents=True, exist_ok=True)
    with services_for(db) as services:
        qset = load_beir(directory, split)
        with progress_bar(quiet=as_json) as bar:
            task = bar.add_task("ingest corpus", total=None)
            report = ingest_corpus(
                services.store,
                directory,
                batch_size=services.settings.batch_size,
                on_progress=lambda done, total, _records: bar.update(
                    task, completed=done, total=total
                ),
            )
        if report.failed_files:
            fail("; ".join(report.failed_files), code=1)
        if not as_json:
            err.print(
                f"corpus: {report.new:,} new, {report.merged:,} merged, "
                f"{report.unchanged:,} already stored, {len(report.rejected):,} rejected "
                f"({report.seconds:.1f} s) in {db}"
            )
        keyword_sync(services, quiet=as_json)
        modes = _ready_modes(services, modes, quiet=as_json)
        ids = BeirIds(services.store)
        runs, scores = _run(services, qset, modes, BEIR_METRICS, ids, quiet=as_json)
    _finish(qset.name, db, runs, scores, run_out, as_json, started,
            extra={"ingest": report.to_json() | {"rejected": len(report.rejected)}})  # fmt: skip


def _ready_modes(services: Services, modes: list[str], *, quiet: bool) -> list[str]:
    """Embed what is missing before a semantic or hybrid run; drop them if the model is absent."""
    if not any(m != "keyword" for m in modes):
        return modes
    from paperlens.cli.app import embed_step

    if embed_step(services, quiet=quiet) is None:
        if "keyword" not in modes:
            fail("no embedding model, so no mode left to score", code=1)
        err.print("[yellow]warning:[/] scoring keyword mode only (no embedding model)")
        return ["keyword"]
    return modes


def _run(
    services: Services,
    qset: Any,
    modes: Sequence[str],
    metrics: Sequence[str],
    doc_ids: Any,
    *,
    quiet: bool,
) -> tuple[list[Run], list[ModeScores]]:
    kwargs = {"doc_ids": doc_ids} if doc_ids is not None else {}
    with progress_bar(quiet=quiet) as bar:
        task = bar.add_task("queries", total=len(qset.queries) * len(modes))
        return evaluate(
            services,
            qset,
            modes,
            metrics,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
            **kwargs,
        )


def _finish(
    name: str,
    db: Path,
    runs: list[Run],
    scores: list[ModeScores],
    run_out: Path | None,
    as_json: bool,
    started: float,
    *,
    extra: dict[str, Any],
) -> None:
    lines = None
    if run_out is not None:
        with run_out.open("w", encoding="utf-8") as stream:
            lines = write_trec_run(runs, stream)
    seconds = time.perf_counter() - started
    if as_json:
        print_json(
            {
                "qrels": name,
                "db": str(db),
                "modes": [s.to_json(with_queries=True) for s in scores],
                "run_file": str(run_out) if run_out else None,
                "seconds": round(seconds, 2),
                **extra,
            }
        )
        return
    _print_table(name, scores)
    for s in scores:
        for qid, message in list(s.errors.items())[:5]:
            err.print(f"{s.mode}: query {qid} failed: {message}", markup=False, highlight=False)
    if run_out is not None:
        out.print(f"run file: {run_out} ({lines:,} lines)")
    out.print(f"total time {seconds:.1f} s", style="dim")


def _print_table(name: str, scores: list[ModeScores]) -> None:
    metrics = list(scores[0].overall) if scores else []
    types = ["all", *[t for t in scores[0].by_type if len(scores[0].by_type) > 1]]
    table = Table(title=f"search quality on {name}", title_justify="left")
    for column in ("type", "mode", "n", *metrics, "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column in ("type", "mode") else "right",
                         no_wrap=True)  # fmt: skip
    for qtype in types:
        rows = [
            (s, s.overall if qtype == "all" else s.by_type.get(qtype, {}), s.queries.get(qtype, 0))
            for s in scores
        ]
        best = {m: max((r[1].get(m, 0.0) for r in rows), default=0.0) for m in metrics}
        for n, (s, values, count) in enumerate(rows):
            cells = [
                f"[bold]{values[m]:.4f}[/]"
                if len(rows) > 1 and values.get(m) == best[m]
                else f"{values.get(m, 0.0):.4f}"
                for m in metrics
            ]
            latency = [
                f"{s.latency_ms.get(p, 0):.0f}" if qtype == "all" else "" for p in ("p50", "p95")
            ]
            table.add_row(qtype if n == 0 else "", s.mode, str(count), *cells, *latency,
                          end_section=n == len(rows) - 1)  # fmt: skip
    out.print(table)
