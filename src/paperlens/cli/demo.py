"""``paperlens demo``: the README's first command — ingest the sample corpus, then show it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paperlens.cli.app import DbOption, app, err, keyword_sync, out, services_for
from paperlens.ingest import ingest
from paperlens.rank.search import search

# The saved listing pages, then the recorded API responses of the other formats.
SAMPLE_DIRS = (
    "samples",
    "tests/fixtures/arxiv_api",
    "tests/fixtures/oai_pmh",
    "tests/fixtures/kaggle_snapshot",
    "tests/fixtures/hf_daily_papers",
    "tests/fixtures/bibtex",
)


@app.command("demo")
def demo_command(
    root: Annotated[
        Path, typer.Option("--root", help="Checkout holding samples/ and tests/fixtures/.")
    ] = Path("."),
    query: Annotated[str, typer.Option("--query", help="Search to show.")] = "diffusion",
    db: DbOption = None,
) -> None:
    """Ingest the sample corpus on first run (seeds and recorded fixtures) and show a search."""
    with services_for(db) as services:
        if services.store.count() == 0:
            inputs = [root / d for d in SAMPLE_DIRS if (root / d).exists()]
            err.print(f"First run: ingesting the sample corpus into {services.settings.db}")
            report = ingest(services.store, inputs, batch_size=services.settings.batch_size)
            err.print(
                f"{report.new} papers from {report.files} files "
                f"({len(report.rejected)} records rejected, see `paperlens ingest --json`)"
            )
        keyword_sync(services, quiet=True)
        stats = services.store.stats()
        out.print(f"{stats['papers']:,} papers, {stats['authors']:,} authors in the store.")
        page = search(services, query, limit=5)
        out.print(f"Top results for {query!r}:", markup=False)
        for n, result in enumerate(page.results, 1):
            out.print(f"  {n}. {result.paper.title}  [{result.paper.id}]", markup=False)
