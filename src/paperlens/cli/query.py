"""``paperlens search``, ``show``, ``stats`` and ``export``: reading the store."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from paperlens.cli.app import DbOption, JsonOption, app, fail, out, print_json, services_for
from paperlens.model import Paper
from paperlens.rank.search import MODES, SearchPage, search

EXPORT_FORMATS = ("bibtex", "csl-json", "jsonl")


@app.command("search")
def search_command(
    query: Annotated[
        str,
        typer.Argument(
            help='Words, "phrases", -excluded, author:, title:, cat:, org:, year:2023 or '
            "year:2021..2023."
        ),
    ],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 10,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode",
            help="keyword, semantic or hybrid [default: hybrid, or PAPERLENS_SEARCH_MODE].",
        ),
    ] = None,
    match_all: Annotated[
        bool, typer.Option("--all", help="Require every word (default: rank by any word).")
    ] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show why each result ranks.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search papers; results are ranked, with a highlighted snippet."""
    if mode is not None and mode not in MODES:
        fail(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}", code=2)
    with services_for(db) as services:
        page = search(services, query, mode=mode, limit=limit, offset=offset,  # type: ignore[arg-type]
                      match_all=match_all)  # fmt: skip
    if as_json:
        print_json([r.to_json() for r in page.results])
        return
    _print_page(page, explain=explain)


def _print_page(page: SearchPage, *, explain: bool) -> None:
    if not page.results:
        out.print(f"No papers match {escape(page.query)!r}.", highlight=False)
        return
    first = page.offset + 1
    out.print(
        f"{page.total:,} papers match ({page.mode}); "
        f"showing {first}-{first + len(page.results) - 1}",
        style="dim",
    )
    for n, result in enumerate(page.results, start=first):
        paper = result.paper
        line = Text(f"{n:>3}. ", style="bold")
        line.append(paper.title or "(untitled)", style="bold cyan")
        out.print(line)
        meta = [paper.id]
        if paper.arxiv_id:
            meta.append(f"arXiv:{paper.arxiv_id}")
        when = paper.published or paper.featured
        if when:
            meta.append(when.isoformat())
        meta.append(f"score {result.score:.3f}")
        out.print(Text("     " + " · ".join(meta), style="dim"))
        out.print(Text("     " + _authors(paper)))
        snippet = Text("     ")
        for text, hit in result.snippet:
            snippet.append(text, style="bold yellow" if hit else "")
        out.print(snippet)
        if explain:
            out.print(Text("     why: " + json.dumps(result.explain), style="magenta"))


def _authors(paper: Paper) -> str:
    names = ", ".join(paper.authors[:6])
    if len(paper.authors) > 6 or not paper.authors_complete:
        names += " et al."
    if not paper.authors and paper.author_count:
        names = f"{paper.author_count} authors (names not given)"
    return names


@app.command("show")
def show_command(
    ref: Annotated[str, typer.Argument(help="A paperlens id, an arXiv id or a DOI.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one paper with its versions, signals and the provenance of every field."""
    with services_for(db) as services:
        paper = services.store.paper(ref, with_claims=True)
    if paper is None:
        fail(f"no paper {ref!r} in the store", code=1)
    if as_json:
        print_json(paper.to_json())
        return
    out.print(Text(paper.title or "(untitled)", style="bold cyan"))
    table = Table(show_header=True, header_style="bold")
    table.add_column("field")
    table.add_column("shown")
    table.add_column("sources (when)")
    for name, claims in paper.claims.items():
        shown = getattr(paper, name, None)
        if isinstance(shown, list):
            shown = ", ".join(str(v) for v in shown)
        seen = "\n".join(
            f"{c.source} {c.origin} ({c.observed_at[:10]})"
            + ("" if _same(c.value, getattr(paper, name, None)) else f": {_short(c.value)}")
            for c in claims
        )
        table.add_row(name, escape(_short(shown)), escape(seen))
    out.print(table)
    if paper.versions:
        out.print("versions: " + ", ".join(f"v{v.version} {v.date or '?'}" for v in paper.versions))
    for sig in paper.signals:
        out.print(
            f"signal: {sig.kind}={sig.value:g} from {sig.source} "
            f"at {sig.observed_at:%Y-%m-%d %H:%M}"
        )


def _same(a: object, b: object) -> bool:
    if hasattr(b, "isoformat"):
        b = b.isoformat()  # type: ignore[union-attr]
    return a == b or (isinstance(a, list) and a[-1:] == ["et al."] and a[:-1] == b)


def _short(value: object, width: int = 120) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("stats")
def stats_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Counts: papers, authors, organisations, per source and per year."""
    with services_for(db) as services:
        stats = services.store.stats()
    if as_json:
        print_json(stats)
        return
    table = Table(show_header=False, title="paperlens store", title_justify="left")
    for key in ("papers", "authors", "organisations", "records", "signals", "with_arxiv_id"):
        table.add_row(key, f"{stats[key]:,}")
    for source, n in stats["per_source"].items():
        table.add_row(f"papers from {source}", f"{n:,}")
    out.print(table)
    if stats["per_year"]:
        out.print("per year: " + ", ".join(f"{y}: {n}" for y, n in stats["per_year"].items()))


@app.command("export")
def export_command(
    query: Annotated[
        str | None, typer.Argument(help="Export only papers matching this search.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="bibtex, csl-json or jsonl.")
    ] = "bibtex",
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Most matching papers to export.")
    ] = 1000,
    db: DbOption = None,
) -> None:
    """Export all papers, or those matching QUERY, as BibTeX, CSL-JSON or JSON lines."""
    if fmt not in EXPORT_FORMATS:
        fail(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}", code=2)
    with services_for(db) as services:
        if query:
            page = search(services, query, limit=limit)
            papers = [r.paper for r in page.results]
        else:
            papers = list(services.store.iter_papers())
        if fmt == "bibtex":
            from paperlens.export.bibtex import to_bibtex

            sys.stdout.write(to_bibtex(papers))
        elif fmt == "csl-json":
            from paperlens.export.csl_json import to_csl_json

            print_json(to_csl_json(papers))
        else:
            from paperlens.export.jsonl import write_jsonl

            write_jsonl(papers, sys.stdout)
