"""Regenerate docs/cli.md from the live ``--help`` of every command.

.venv/bin/python scripts/gen_cli_docs.py          # rewrite docs/cli.md
.venv/bin/python scripts/gen_cli_docs.py --check  # exit 1 if docs/cli.md is stale (tests do this)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def render() -> str:
    os.environ["COLUMNS"] = "100"
    os.environ["TERM"] = "dumb"
    os.environ["NO_COLOR"] = "1"
    import typer.main
    from typer.testing import CliRunner

    from paperlens.cli import app

    runner = CliRunner()
    group = typer.main.get_command(app)
    parts = [
        "# CLI reference\n",
        "Generated from `--help` by `scripts/gen_cli_docs.py`; a test fails when it is stale.\n",
    ]
    paths: list[list[str]] = [[]]
    for name, cmd in sorted(group.commands.items()):  # type: ignore[attr-defined]
        paths.append([name])
        paths.extend([name, sub] for sub in sorted(getattr(cmd, "commands", {})))
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], terminal_width=100, color=False)
        title = " ".join(["paperlens", *path])
        lines = [line.rstrip() for line in result.output.splitlines()]
        parts.append(f"\n## `{title}`\n\n```text\n" + "\n".join(lines).strip("\n") + "\n```\n")
    return "".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        return 0 if DOC.exists() and DOC.read_text(encoding="utf-8") == text else 1
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
