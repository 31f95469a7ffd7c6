"""``paperlens demo``: the README's first command — ingest the sample corpus, then serve it.

On first run (an empty store) it ingests the sample corpus and, unless told
``--no-demo-votes``, seeds clearly labelled demo upvotes (source ``"demo"``;
the sample has few real ones, and trending needs some to show anything).
Then it serves the site and prints its URL; ``--no-serve`` prints a search
instead and exits, as tests and scripts want.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paperlens.accounts.votes import seed_demo_votes
from paperlens.cli.app import DbOption, app, embed_step, err, keyword_sync, out, services_for
from paperlens.cli.serve import display_host, serve_app
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
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the site after ingesting.")
    ] = True,
    demo_votes: Annotated[
        bool,
        typer.Option(
            "--demo-votes/--no-demo-votes",
            help="On first run, seed generated upvotes labelled 'demo data' (source demo).",
        ),
    ] = True,
    host: Annotated[str, typer.Option("--host", help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port (the next free one if taken).")
    ] = 8000,
    db: DbOption = None,
) -> None:
    """Ingest the sample corpus on first run, then serve the site and print its URL."""
    with services_for(db) as services:
        first_run = services.store.count() == 0
        if first_run:
            inputs = [root / d for d in SAMPLE_DIRS if (root / d).exists()]
            err.print(f"First run: ingesting the sample corpus into {services.settings.db}")
            report = ingest(services.store, inputs, batch_size=services.settings.batch_size)
            err.print(
                f"{report.new} papers from {report.files} files "
                f"({len(report.rejected)} records rejected, see `paperlens ingest --json`)"
            )
        if first_run and demo_votes:
            seeded = seed_demo_votes(services)
            err.print(
                f"Seeded demo upvotes on {seeded} papers (source 'demo', labelled "
                "'demo data' on every page; --no-demo-votes to skip)"
            )
        keyword_sync(services, quiet=True)
        if services.settings.embed:
            embedded = embed_step(services, quiet=False)
            if embedded and embedded["embedded"]:
                err.print(f"Embedded {embedded['embedded']:,} papers for search by meaning")
        stats = services.store.stats()
        out.print(f"{stats['papers']:,} papers, {stats['authors']:,} authors in the store.")
        page = search(services, query, limit=5)
        out.print(f"Top results for {query!r}:", markup=False)
        for n, result in enumerate(page.results, 1):
            out.print(f"  {n}. {result.paper.title}  [{result.paper.id}]", markup=False)
        db_path = str(services.settings.db)
    if serve:
        port = free_port(host, port)
        out.print(f"\nServing paperlens at http://{display_host(host)}:{port}/  (Ctrl+C to stop)")
        serve_app(host=host, port=port, workers=1, db=db_path, log_level="warning")


def free_port(host: str, port: int, *, tries: int = 20) -> int:
    """``port`` if it is free on ``host``, else the next free one (a busy 8000 is common)."""
    import socket

    for candidate in range(port, min(port + tries, 65536)):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            try:
                sock.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return port
