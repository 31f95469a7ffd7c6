"""Papers as JSON Lines: one ``Paper.to_json()`` object per line.

The lossless export: every displayed field, the version history, the claims
behind each value and the signal time series, in the same shape the API
returns. One object per line so a dump of a million papers streams in and out
without holding it whole, and ``jq``/``grep`` work on it line by line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from paperlens.model import Paper


def write_jsonl(papers: Iterable[Paper], out: TextIO) -> int:
    """Write one JSON object per paper to ``out``; return how many were written.

    ``ensure_ascii=False`` keeps names and titles readable (the file is
    UTF-8); ``sort_keys`` makes two exports of the same papers byte-identical,
    so they diff cleanly.
    """
    count = 0
    for paper in papers:
        out.write(json.dumps(paper.to_json(), ensure_ascii=False, sort_keys=True))
        out.write("\n")
        count += 1
    return count
