"""``paperlens sync arxiv|arxiv-oai|hf|status``, ``enrich``, ``add`` and ``reparse``.

Thin: parse the flags, run one function from ``paperlens.sync``, render its
report as a Rich summary or ``--json``. Endpoints, pacing and the contact
address come from ``PAPERLENS_*`` settings (see ``docs/sync.md``).
Exit codes: 0 ok; 1 some pages failed or items were rejected (everything else
was stored); 2 usage errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
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
    services_for,
)
from paperlens.errors import ConfigError
from paperlens.sync.pages import SyncContext, SyncReport
from paperlens.sync.settings import SyncSettings

sync_app = typer.Typer(
    help="Fetch papers from live sources (arXiv API, arXiv OAI-PMH, Hugging Face Daily Papers).",
    no_args_is_help=True,
)
app.add_typer(sync_app, name="sync")

NoIndexOption = Annotated[
    bool, typer.Option("--no-index", help="Do not update the keyword index afterwards.")
]


def _date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{flag} {value!r}: expected a date like 2025-04-09", code=2)


def _sync_settings() -> SyncSettings:
    try:
        return SyncSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"PAPERLENS_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        fail(f"invalid setting: {problems}", code=2)


@contextmanager
def _running(db: Path | None, *, as_json: bool) -> Iterator[SyncContext]:
    """Services and a sync context whose progress drives a Rich bar on stderr."""
    sync_settings = _sync_settings()
    with services_for(db) as services:
        bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[what]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err,
            disable=as_json,
        )
        with bar:
            task = bar.add_task("sync", total=None, what="")

            def progress(done: int, total: int | None, what: str) -> None:
                bar.update(task, completed=done, total=total, what=what)

            with SyncContext(services, sync_settings, on_progress=progress) as ctx:
                yield ctx


def _finish(ctx: SyncContext, report: SyncReport, *, as_json: bool, index: bool = True) -> None:
    indexed = None
    if index and (report.ingest.new or report.ingest.updated):
        indexed = keyword_sync(ctx.services, quiet=as_json)
    if as_json:
        print_json({**report.to_json(), "keyword_indexed": indexed})
    else:
        _print_summary(report, indexed)
    if not report.ok:
        raise typer.Exit(1)


def _print_summary(report: SyncReport, indexed: int | None) -> None:
    table = Table(title=f"{report.kind} summary", show_header=False, title_justify="left")
    fetch = report.fetch
    rows: list[tuple[str, object]] = [
        ("requests", fetch.get("requests", 0)),
        ("retries", fetch.get("retries", 0)),
        ("pages stored", report.pages),
        ("records", report.records),
        ("new papers", report.ingest.new),
        ("merged into existing", report.ingest.merged),
        ("papers updated", report.ingest.updated),
        ("unchanged", report.ingest.unchanged),
        ("signals recorded", report.signals),
        ("errors", len(report.errors)),
        ("rejected items", len(report.rejected)),
    ]
    if report.resumed:
        rows.insert(0, ("resumed at", report.resumed))
    for key in ("enriched", "not_found"):
        if key in report.details:
            rows.append((key.replace("_", " "), report.details[key]))
    if indexed is not None:
        rows.append(("keyword index updated", indexed))
    rows.append(("time", f"{report.seconds:.1f} s (waited {fetch.get('waited_s', 0)} s)"))
    for name, value in rows:
        table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    out.print(table)
    for paper in report.details.get("papers", []):
        line = f"{paper['ref']}: {paper['status']}"
        if paper.get("paper_id"):
            line += f" ({paper['paper_id']})"
        if paper.get("reason") and paper["status"] != "not_found":
            line += f": {paper['reason']}"
        out.print(line, highlight=False, markup=False)
    for note in report.notes:
        err.print(f"note: {escape(note)}", highlight=False)
    for problem in report.errors[:50]:
        err.print(f"[red]error:[/] {escape(str(problem))}", highlight=False)
    for rejected in report.rejected[:50]:
        err.print(f"rejected: {rejected}", highlight=False, markup=False)
    hidden = max(0, len(report.errors) - 50) + max(0, len(report.rejected) - 50)
    if hidden:
        err.print(f"... and {hidden} more (see --json)")


@sync_app.command("arxiv")
def sync_arxiv_command(
    category: Annotated[
        list[str] | None,
        typer.Option("--category", "-c", help="arXiv category, e.g. cs.LG (repeatable)."),
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="arXiv API query, e.g. 'ti:diffusion'.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Papers submitted on or after this date (default: since the last run)."),
    ] = None,
    page_size: Annotated[
        int | None, typer.Option(min=1, max=2000, help="Results per request (<= 2000).")
    ] = None,
    db: DbOption = None,
    no_index: NoIndexOption = False,
    as_json: JsonOption = False,
) -> None:
    """New papers from the arXiv API, paged politely (3 s apart), resumable after a kill.

    Without --category, PAPERLENS_ARXIV_CATEGORIES is used. An interrupted run
    of the same query continues where it stopped.
    """
    from paperlens.sync.arxiv import sync_arxiv

    since_day = _date(since, "--since")
    with _running(db, as_json=as_json) as ctx:
        cats = category or ctx.settings.arxiv_categories
        try:
            report = sync_arxiv(ctx, categories=cats, query=query, since=since_day,
                                page_size=page_size)  # fmt: skip
        except ConfigError as exc:
            fail(str(exc), code=2)
        _finish(ctx, report, as_json=as_json, index=not no_index)


@sync_app.command("arxiv-oai")
def sync_oai_command(
    set_spec: Annotated[
        str | None, typer.Option("--set", help="OAI-PMH set, e.g. cs or physics:hep-ex.")
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option("--from", help="Records changed on or after this date (default: last run)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Records changed on or before this date.")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Harvest the whole set, from its first record.")
    ] = False,
    metadata_prefix: Annotated[
        str | None, typer.Option("--metadata-prefix", help="arXiv (default) or arXivRaw.")
    ] = None,
    db: DbOption = None,
    no_index: NoIndexOption = False,
    as_json: JsonOption = False,
) -> None:
    """Bulk harvest through OAI-PMH ListRecords, following resumption tokens; resumable."""
    from paperlens.sync.oai import sync_oai

    start, end = _date(from_, "--from"), _date(until, "--until")
    with _running(db, as_json=as_json) as ctx:
        report = sync_oai(
            ctx, set_spec=set_spec or ctx.settings.oai_set, from_=start, until=end, full=full,
            prefix=metadata_prefix,
        )  # fmt: skip
        _finish(ctx, report, as_json=as_json, index=not no_index)


@sync_app.command("hf")
def sync_hf_command(
    day: Annotated[str | None, typer.Option("--date", help="One day, YYYY-MM-DD.")] = None,
    week: Annotated[str | None, typer.Option("--week", help="An ISO week, YYYY-Www.")] = None,
    month: Annotated[str | None, typer.Option("--month", help="A month, YYYY-MM.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Every day from this date.")] = None,
    db: DbOption = None,
    no_index: NoIndexOption = False,
    as_json: JsonOption = False,
) -> None:
    """Hugging Face Daily Papers; without a date, today and the re-poll window before it.

    Every poll records upvotes and comments as new observations, so trending
    sees them grow. PAPERLENS_HF_REPOLL_DAYS sets the window (default 7).
    """
    from paperlens.sync.hf import hf_days, sync_hf

    one, first = _date(day, "--date"), _date(since, "--since")
    with _running(db, as_json=as_json) as ctx:
        try:
            days = hf_days(
                today=ctx.now().date(), day=one, week=week, month=month, since=first,
                repoll_days=ctx.settings.hf_repoll_days,
            )  # fmt: skip
        except ConfigError as exc:
            fail(str(exc), code=2)
        report = sync_hf(ctx, days)
        _finish(ctx, report, as_json=as_json, index=not no_index)


@sync_app.command("status")
def sync_status_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Where each sync stream stands: its cursor, finished or not, last update."""
    from paperlens.store.sync import SyncTables

    with services_for(db) as services:
        states = SyncTables(services.store).states()
        if as_json:
            print_json([asdict(s) for s in states])
            return
        table = Table(title="sync streams", title_justify="left")
        for col in ("stream", "state", "updated", "cursor"):
            table.add_column(col)
        for s in states:
            cursor = ", ".join(f"{k}={v}" for k, v in s.cursor.items() if k not in ("days",))
            table.add_row(s.name, "done" if s.done else "unfinished", s.updated_at, cursor[:120])
        out.print(table)


@app.command("enrich")
def enrich_command(
    limit: Annotated[int, typer.Option(min=1, help="Papers to enrich in this run.")] = 500,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Citation counts, references and TLDRs from Semantic Scholar (optional; <= 1 req/s).

    Papers never enriched come first, then those older than
    PAPERLENS_ENRICH_MAX_AGE_DAYS. PAPERLENS_S2_API_KEY is used when set.
    """
    from paperlens.sync.enrich import enrich

    with _running(db, as_json=as_json) as ctx:
        report = enrich(ctx, limit=limit)
        _finish(ctx, report, as_json=as_json, index=False)


@app.command("add")
def add_command(
    refs: Annotated[
        list[str] | None,
        typer.Argument(help="arXiv ids or URLs (2202.09844, arXiv:2202.09844v2, abs/pdf URLs)."),
    ] = None,
    queue: Annotated[
        bool, typer.Option("--queue", help="Also fetch the web app's queued submissions.")
    ] = False,
    db: DbOption = None,
    no_index: NoIndexOption = False,
    as_json: JsonOption = False,
) -> None:
    """Fetch single papers from the arXiv API and store them."""
    from paperlens.sync.add import add_papers, process_submissions

    if not refs and not queue:
        fail("give at least one arXiv id or URL, or --queue", code=2)
    with _running(db, as_json=as_json) as ctx:
        report = add_papers(ctx, refs or [])
        if queue:
            queued = process_submissions(ctx)
            _merge(report, queued)
        _finish(ctx, report, as_json=as_json, index=not no_index)


@app.command("reparse")
def reparse_command(
    restart: Annotated[
        bool, typer.Option("--restart", help="Start over instead of resuming an interrupted run.")
    ] = False,
    db: DbOption = None,
    no_index: NoIndexOption = False,
    as_json: JsonOption = False,
) -> None:
    """Parse every cached raw response again (after a parser fix) without refetching."""
    from paperlens.sync.reparse import reparse

    with _running(db, as_json=as_json) as ctx:
        report = reparse(ctx, restart=restart)
        _finish(ctx, report, as_json=as_json, index=not no_index)


def _merge(into: SyncReport, other: SyncReport) -> None:
    for name in ("records", "new", "merged", "updated", "unchanged", "signals"):
        setattr(into.ingest, name, getattr(into.ingest, name) + getattr(other.ingest, name))
    into.pages += other.pages
    into.records += other.records
    into.extra_signals += other.extra_signals
    into.errors.extend(other.errors)
    into.rejected.extend(other.rejected)
    into.fetch = {k: into.fetch.get(k, 0) + v for k, v in other.fetch.items()}
    into.details["papers"] = [*into.details.get("papers", []), *other.details.get("papers", [])]
    into.details["submissions"] = other.details.get("submissions", 0)
    into.seconds += other.seconds
