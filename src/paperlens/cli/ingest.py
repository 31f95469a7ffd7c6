"""``paperlens ingest``: read files into the store, then bring the indexes up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from paperlens.cli.app import (
    DbOption,
    JsonOption,
    app,
    embed_step,
    err,
    fail,
    keyword_sync,
    out,
    print_json,
    progress_bar,
    services_for,
)
from paperlens.ingest import IngestReport, ingest
from paperlens.sources import FORMATS

FORMAT_HELP = "Input format: auto (detect from content) or one of " + ", ".join(FORMATS) + "."


@app.command("ingest")
def ingest_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or directories to read.", show_default=False)
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "auto",
    db: DbOption = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Records per transaction.")
    ] = None,
    embed: Annotated[
        bool | None,
        typer.Option("--embed/--no-embed", help="Embed new papers for search by meaning."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest papers from files (listing pages, arXiv Atom/OAI/JSONL, HF Daily Papers, BibTeX).

    Malformed records are reported with file, line and reason and skipped; the
    rest is stored. Exit 0 when nothing was rejected, 1 when some records were.
    """
    if fmt != "auto" and fmt not in FORMATS:
        fail(f"unknown format {fmt!r}; choose auto or one of {', '.join(FORMATS)}", code=2)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or directory: {', '.join(missing)}", code=2)
    with services_for(db, batch_size=batch_size, embed=embed) as services:
        bar = Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[records]:,} records"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err,
            disable=as_json,
        )
        with bar:
            task = bar.add_task("ingest", total=None, records=0)
            report = ingest(
                services.store,
                paths,
                fmt=fmt,
                batch_size=services.settings.batch_size,
                on_progress=lambda done, total, records: bar.update(
                    task, completed=done, total=total, records=records
                ),
                on_batch=services.feed_keyword,
            )
        indexed = keyword_sync(services, quiet=as_json)
        embedded = embed_step(services, quiet=as_json) if services.settings.embed else None
        if as_json:
            print_json({**report.to_json(), "keyword_indexed": indexed, "embedding": embedded})
        else:
            _print_summary(report, indexed)
            if embedded:
                out.print(
                    f"embedded {embedded['embedded']:,} papers "
                    f"({embedded['unchanged']:,} unchanged) with {embedded['model']}"
                )
    if report.failed_files and not report.files:
        raise typer.Exit(2)
    if not report.ok:
        raise typer.Exit(1)


def _print_summary(report: IngestReport, indexed: int) -> None:
    table = Table(title="ingest summary", show_header=False, title_justify="left")
    rate = f"{report.records / report.seconds:,.0f}/s" if report.seconds else "-"
    rows = [
        ("files", report.files),
        ("records read", report.records),
        ("new papers", report.new),
        ("merged into existing", report.merged),
        ("papers updated", report.updated),
        ("unchanged (already stored)", report.unchanged),
        ("signals recorded", report.signals),
        ("rejected", len(report.rejected)),
        ("keyword index updated", indexed),
        ("time", f"{report.seconds:.1f} s ({rate})"),
    ]
    if report.resumed:
        rows.insert(1, ("resumed after records", report.resumed))
    for name, value in rows:
        table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    out.print(table)
    if report.records and report.unchanged == report.records and not report.new:
        out.print("Nothing new: every record was already stored.")
    for error in report.rejected[:50]:
        err.print(f"rejected: {error}", highlight=False, markup=False)
    if len(report.rejected) > 50:
        err.print(f"... and {len(report.rejected) - 50} more rejected (see --json)")
    for failure in report.failed_files:
        err.print(f"[red]error:[/] {escape(failure)}", highlight=False)


@app.command("reindex")
def reindex_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Rebuild the keyword index from the store (it is derived data; nothing is lost)."""
    with services_for(db) as services:
        index = services.fulltext
        with progress_bar(quiet=as_json) as bar:
            task = bar.add_task("keyword index", total=None)
            done = index.rebuild(
                services.store,
                on_progress=lambda n, total: bar.update(task, completed=n, total=total),
            )
    if as_json:
        print_json({"keyword_indexed": done})
    else:
        out.print(f"keyword index rebuilt: {done:,} papers")
