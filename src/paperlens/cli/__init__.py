"""The ``paperlens`` command line: one module per command family, one Typer app."""

from __future__ import annotations

import os

from paperlens.cli import demo, ingest, query  # noqa: F401  (registers the commands)
from paperlens.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    app()
