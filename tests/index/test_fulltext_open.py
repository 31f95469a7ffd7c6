"""Server workers starting together on a store whose keyword index needs rebuilding."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from paperlens.index.fulltext import LAYOUT, FulltextIndex

# Each worker imports everything, then waits for the go file, so all open at once.
_OPEN = """
import sys, time
from pathlib import Path
from paperlens.index.fulltext import FulltextIndex
go = Path(sys.argv[2])
Path(sys.argv[3]).touch()
while not go.exists():
    time.sleep(0.001)
FulltextIndex(Path(sys.argv[1]))
"""


def old_layout_index(directory: Path) -> None:
    directory.mkdir(parents=True)
    (directory / "paperlens.json").write_text(json.dumps({"layout": LAYOUT - 1}))
    for i in range(2000):  # enough files that deleting them takes a moment
        (directory / f"old-{i}.idx").write_bytes(b"x" * 1000)


def test_workers_opening_an_outdated_index_together_all_succeed(tmp_path: Path) -> None:
    for round_ in range(3):
        directory = tmp_path / f"r{round_}" / "keyword"
        old_layout_index(directory)
        go = tmp_path / f"go-{round_}"
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", _OPEN, str(directory), str(go), str(go) + f".ready{i}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for i in range(4)
        ]
        while len(list(go.parent.glob(go.name + ".ready*"))) < 4:  # all imported, waiting
            assert all(w.poll() is None for w in workers), "a worker died before opening"
            time.sleep(0.01)
        go.touch()
        results = [w.communicate(timeout=120) for w in workers]
        assert [w.returncode for w in workers] == [0] * 4, [e.decode()[-500:] for _o, e in results]
        assert not list(directory.glob("old-*"))
        assert json.loads((directory / "paperlens.json").read_text()) == {"layout": LAYOUT}
        assert FulltextIndex(directory).fresh is False
