"""Maps a job operation name to its handler; feature modules register theirs at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from capi_packages.blobstore.base import Blobstore
from capi_packages.jobs.models import Job
from capi_packages.settings import Settings


@dataclass
class JobContext:
    session: Session
    settings: Settings
    blobstore: Blobstore

    @property
    def work_dir(self) -> Path:
        path = self.blobstore.scratch_dir()
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class Handler:
    run: Callable[[JobContext, Job], None]
    # Called (in a fresh transaction) when a job is given up: after its last attempt failed or its
    # worker died. It must leave the resource in a final state, never stuck in PROCESSING_UPLOAD.
    give_up: Callable[[JobContext, Job, str], None] | None = None
    # Payload fields only a run needs (large request bodies): dropped once the job is finished.
    transient_fields: tuple[str, ...] = ()


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        # Periodic housekeeping (CC's clock jobs), run by workers every maintenance interval.
        self.maintenance: list[Callable[[JobContext], None]] = []

    def register(self, operation: str, handler: Handler) -> None:
        self._handlers[operation] = handler

    def get(self, operation: str) -> Handler | None:
        return self._handlers.get(operation)

    def operations(self) -> list[str]:
        return sorted(self._handlers)


def payload_str(job: Job, key: str) -> str:
    value: Any = (job.payload or {}).get(key)
    if not isinstance(value, str):
        raise ValueError(f"job {job.guid} has no {key!r} in its payload")
    return value
