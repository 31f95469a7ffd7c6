"""Scheduled jobs: what ``paperlens worker`` runs, contributed by each feature.

A feature module exposes ``JOBS: list[Job]`` (``paperlens.digest.jobs``,
``paperlens.sync.jobs``); the worker collects them from ``JOB_MODULES``.
The worker, not the job, decides when a job is due; a job must be safe to run
again after a crash (each keeps its own checkpoint or exactly-once state).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paperlens.services import Services

JOB_MODULES: tuple[str, ...] = ("paperlens.digest.jobs", "paperlens.sync.jobs")


@dataclass(frozen=True, slots=True)
class Job:
    """A named piece of periodic work."""

    name: str
    every: timedelta
    run: Callable[[Services], dict[str, Any]]
    """Does one round of work and returns a summary for the log."""


def collect_jobs() -> list[Job]:
    """Every job from the feature modules that exist in this installation."""
    jobs: list[Job] = []
    for name in JOB_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        jobs.extend(module.JOBS)
    return jobs
