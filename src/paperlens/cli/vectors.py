"""``paperlens embed``, ``similar`` and ``related``: search by meaning."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from paperlens.cli.app import (
    DbOption,
    JsonOption,
    app,
    embed_step,
    fail,
    out,
    print_json,
    services_for,
)
from paperlens.rank.search import SearchResult


@app.command("embed")
def embed_command(
    device: Annotated[str | None, typer.Option("--device", help="auto, cpu or cuda.")] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Texts per model batch.")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop stored vectors and embed everything again.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Embed papers whose text changed (all of them with --rebuild) and update the vector index."""
    if device is not None and device not in ("auto", "cpu") and not device.startswith("cuda"):
        fail(f"unknown device {device!r}; choose auto, cpu or cuda", code=2)
    with services_for(db, device=device) as services:
        report = embed_step(services, quiet=as_json, rebuild=rebuild, batch_size=batch_size)
    if report is None:
        raise typer.Exit(1)
    if as_json:
        print_json(report)
        return
    rate = report["papers_per_second"]
    out.print(
        f"{report['embedded']:,} embedded, {report['unchanged']:,} unchanged "
        f"({report['model']} on {report['device']}, {report['seconds']} s"
        + (f", {rate} papers/s" if rate else "")
        + f"); index: {report['index']['kind']} with {report['index']['size']:,} vectors",
        markup=False,
    )


def print_results(results: list[SearchResult], *, as_json: bool, explain: bool = False) -> None:
    if as_json:
        print_json([r.to_json() for r in results])
        return
    for n, result in enumerate(results, start=1):
        paper = result.paper
        line = Text(f"{n:>3}. ", style="bold")
        line.append(paper.title or "(untitled)", style="bold cyan")
        out.print(line)
        sim = result.explain.get("semantic", {}).get("similarity")
        meta = [paper.id] + ([f"arXiv:{paper.arxiv_id}"] if paper.arxiv_id else [])
        if sim is not None:
            meta.append(f"similarity {sim:.3f}")
        if result.explain.get("cited"):
            meta.append("cited in your .bib")
        out.print(Text("     " + " · ".join(meta), style="dim"))
        if explain:
            out.print(Text(f"     why: {result.explain}", style="magenta"))


@app.command("similar")
def similar_command(
    ref: Annotated[str, typer.Argument(help="A paperlens id, an arXiv id or a DOI.")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=200)] = 10,
    explain: Annotated[bool, typer.Option("--explain")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Papers nearest in meaning to a paper (never the paper itself or its duplicates)."""
    from paperlens.rank.similar import similar

    with services_for(db) as services:
        results = similar(services, ref, limit=limit)
    print_results(results, as_json=as_json, explain=explain)


@app.command("related")
def related_command(
    text: Annotated[str | None, typer.Option("--text", help="A draft abstract.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A text file with the draft.")] = None,
    bib: Annotated[Path | None, typer.Option("--bib", help="A .bib file of references.")] = None,
    exclude_cited: Annotated[
        bool, typer.Option("--exclude-cited", help="Leave out papers the .bib already cites.")
    ] = False,
    diverse: Annotated[
        float,
        typer.Option("--diversity", min=0.0, max=1.0, help="MMR diversity (0 = off, 0.3 good)."),
    ] = 0.0,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=200)] = 10,
    explain: Annotated[bool, typer.Option("--explain")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Related work for a draft (--text or --file) and/or a set of references (--bib)."""
    from paperlens.rank.similar import related

    if text is None and file is None and bib is None:
        fail("give a draft with --text or --file, or references with --bib", code=2)
    for path in (file, bib):
        if path is not None and not path.is_file():
            fail(f"no such file: {path}", code=2)
    draft = text if text is not None else (file.read_text(errors="replace") if file else None)
    with services_for(db) as services:
        result = related(
            services, text=draft, bib=bib, limit=limit, exclude_cited=exclude_cited,
            diversity=diverse,
        )  # fmt: skip
    if not as_json:
        for notice in result.notices:
            out.print(Text(notice, style="yellow"), highlight=False)
    print_results(result.results, as_json=as_json, explain=explain)
