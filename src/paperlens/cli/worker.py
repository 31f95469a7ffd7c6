"""``paperlens worker``: the long-running scheduler for digests and sync jobs."""

from __future__ import annotations

import json
import logging
import signal
import sys
from typing import Annotated, Any

import typer

from paperlens.cli.app import DbOption, JsonOption, app, fail, services_for


@app.command("worker")
def worker_command(
    once: Annotated[
        bool, typer.Option("--once", help="Run the jobs that are due now, then exit.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log warnings only.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run scheduled jobs (digests, sync) at their times; safe to stop and restart."""
    from paperlens.jobs import collect_jobs
    from paperlens.worker import JobRun, Worker, WorkerBusy, WorkerLock

    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )

    def emit(run: JobRun) -> None:
        if as_json:  # one JSON document per line, as each job finishes
            sys.stdout.write(json.dumps(run.to_json(), default=str) + "\n")
            sys.stdout.flush()

    jobs = collect_jobs()
    if not jobs:
        fail("no jobs are installed (paperlens.digest.jobs, paperlens.sync.jobs)", code=1)
    with services_for(db) as services:
        try:
            lock = WorkerLock(services.settings.data_dir / "worker.lock").__enter__()
        except WorkerBusy as exc:
            fail(str(exc), code=1)
        try:
            worker = Worker(services, jobs, on_run=emit)

            def stop(signum: int, frame: Any) -> None:
                logging.getLogger("paperlens.worker").info("signal %d: stopping", signum)
                worker.stop.set()

            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            if once:
                runs = worker.run_once()
                if any(not r.ok for r in runs):
                    raise typer.Exit(1)
            else:
                worker.run_forever()
        finally:
            lock.__exit__(None, None, None)
