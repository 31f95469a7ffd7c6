"""``paperlens serve``: the web site and JSON API, with uvicorn.

``--get PATH`` serves one request in process and prints the response
(like ``datasette --get``): a whole-stack smoke test without a port.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from paperlens.cli.app import DbOption, app, err, fail, services_for, settings_for


def serve_app(
    *,
    host: str,
    port: int,
    workers: int,
    db: str | None,
    log_level: str = "info",
) -> None:
    """Run uvicorn; one worker runs in this process, more re-import the app factory."""
    import uvicorn

    if db is not None:
        os.environ["PAPERLENS_DB"] = db
    if workers > 1:
        uvicorn.run(
            "paperlens.web.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            proxy_headers=True,
        )
        return
    from paperlens.web.app import app_from_env

    uvicorn.run(app_from_env(), host=host, port=port, log_level=log_level, proxy_headers=True)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
    get: Annotated[
        str | None,
        typer.Option("--get", help="Serve one GET request for PATH in process, print it, exit."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Serve the site (trending, search, papers, accounts, lists), the API and feeds."""
    if get is not None:
        _get(get, db)
        return
    settings = settings_for(db)
    if not settings.db.exists():
        err.print(f"note: {settings.db} does not exist yet; starting with an empty store")
    err.print(f"paperlens serving {settings.db} at http://{display_host(host)}:{port}/")
    serve_app(host=host, port=port, workers=workers, db=str(settings.db))


def display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host


def _get(path: str, db: object) -> None:
    from fastapi.testclient import TestClient

    from paperlens.web.app import create_app

    if not path.startswith("/"):
        fail(f"--get takes a path starting with '/', not {path!r}", code=2)
    with services_for(db) as services:  # type: ignore[arg-type]
        with TestClient(create_app(services)) as client:
            response = client.get(path, follow_redirects=False)
        sys.stdout.write(response.text)
        if not response.text.endswith("\n"):
            sys.stdout.write("\n")
    if response.status_code >= 400:
        err.print(f"{response.status_code} {response.reason_phrase}")
        raise typer.Exit(1)
