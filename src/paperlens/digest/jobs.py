"""The digest's periodic job for ``paperlens worker``.

Every minute: compose and queue the digests that came due (each
subscriber's own hour and zone decide), then deliver the outbox, which also
carries confirmation mail and retries. Running it twice, or after a crash,
sends nothing twice (see ``digest/outbox.py``).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from paperlens.jobs import Job

if TYPE_CHECKING:
    from paperlens.services import Services


BUDGET_SECONDS = 600.0
"""One run stops composing/sending after this long; the next run carries on."""


def run_digests(services: Services) -> dict[str, Any]:
    from paperlens.digest.env import DigestEnv
    from paperlens.digest.run import run
    from paperlens.worker import stop_requested

    deadline = time.monotonic() + BUDGET_SECONDS
    report = run(
        DigestEnv(services),
        should_stop=lambda: stop_requested() or time.monotonic() > deadline,
    ).to_json()
    report.pop("digests", None)
    return report


JOBS: list[Job] = [Job(name="digest", every=timedelta(minutes=1), run=run_digests)]
