"""The Typer app, the options every command shares, and the error → exit-code mapping.

Exit codes: 0 ok; 1 some records rejected, or the thing asked for was not
found; 2 usage errors (bad flags, bad query syntax, unknown format).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from paperlens.config import Settings
from paperlens.errors import (
    ConfigError,
    InvalidQuery,
    ModelUnavailable,
    NotFound,
    PaperlensError,
    UnknownFormat,
)
from paperlens.services import Services

app = typer.Typer(
    name="paperlens",
    help="Self-hosted research-paper discovery: collect, merge, search and follow papers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite database file [env PAPERLENS_DB; default ./paperlens.db]."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

USAGE_ERRORS = (InvalidQuery, UnknownFormat, ConfigError)


def settings_for(db: Path | None, **overrides: Any) -> Settings:
    """Settings from the environment, with the flags that were given taking precedence."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if db is not None:
        given["db"] = db
    return Settings(**given)


@contextmanager
def services_for(db: Path | None, **overrides: Any) -> Iterator[Services]:
    """Open services for one command and map paperlens errors to one line + exit code."""
    services: Services | None = None
    try:
        services = Services(settings_for(db, **overrides))
        yield services
    except USAGE_ERRORS as exc:
        fail(str(exc), code=2)
    except (NotFound, ModelUnavailable, PaperlensError) as exc:
        fail(str(exc), code=1)
    finally:
        if services is not None:
            services.close()


def fail(message: str, *, code: int) -> NoReturn:
    """One line on stderr (user text escaped, never read as markup), then exit."""
    err.print(f"[red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """JSON to stdout, one document, UTF-8 kept readable."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


class RateColumn(ProgressColumn):
    """Items per second, for progress bars counted in items rather than bytes."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if not speed:
            return Text(f"? {self.unit}/s", style="progress.data.speed")
        return Text(f"{speed:,.0f} {self.unit}/s", style="progress.data.speed")


def progress_bar(*, quiet: bool) -> Progress:
    """A Rich bar with count, rate and ETA on stderr; silent for ``--json`` runs."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        RateColumn("items"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
        transient=False,
    )


def keyword_sync(services: Services, *, quiet: bool) -> int:
    """Catch the keyword index up with the store, with its own progress bar."""
    with progress_bar(quiet=quiet) as bar:
        task = bar.add_task("keyword index", total=None)
        update: Callable[[int, int], None] = lambda done, total: bar.update(  # noqa: E731
            task, completed=done, total=total
        )
        return services.sync_keyword(on_progress=update)


def embed_step(
    services: Services, *, quiet: bool, rebuild: bool = False, batch_size: int | None = None
) -> dict[str, Any] | None:
    """Embed what changed, with a progress bar; a model that cannot load is a warning.

    Keyword search keeps working without the model, so ingest must not fail
    because torch or the model package is missing.
    """
    from paperlens.embed.sync import embed_pending

    with progress_bar(quiet=quiet) as bar:
        task = bar.add_task("embedding", total=None)
        try:
            report = embed_pending(
                services,
                rebuild=rebuild,
                batch_size=batch_size,
                on_progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except ModelUnavailable as exc:
            err.print(f"[yellow]warning:[/] no embeddings: {escape(str(exc))}", highlight=False)
            return None
    return report.to_json()
