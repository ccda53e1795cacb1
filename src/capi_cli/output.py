"""How the client commands print: aligned tables and detail blocks for people, JSON for programs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, Any

import click

from capi_client import (
    CapiError,
    Job,
    JobFailedError,
    NotAuthenticatedError,
    NotAuthorizedError,
    NotFoundError,
    Package,
    PackageFailedError,
    WaitTimeoutError,
)

# Exit codes; 2 is click's own for usage errors.
EXIT_API_ERROR, EXIT_NOT_FOUND, EXIT_AUTH, EXIT_FAILED, EXIT_TIMEOUT = 1, 3, 4, 5, 6

# Below this a bar would only flicker.
PROGRESS_MIN_BYTES = 1024 * 1024


def format_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else ""


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns, two spaces apart, headers first."""
    all_rows = [list(headers), *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in all_rows) for i in range(len(headers))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in all_rows)


def packages_table(packages: Iterable[Package]) -> str:
    rows = ((p.guid, p.type, p.state, p.app_guid or "", format_time(p.created_at)) for p in packages)
    return table(("guid", "type", "state", "app", "created"), rows)


def _pairs(mapping: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(mapping.items()))


def package_details(package: Package) -> str:
    fields: list[tuple[str, str | None]] = [
        ("guid", package.guid),
        ("type", package.type),
        ("state", package.state),
        ("app", package.app_guid),
        ("created", format_time(package.created_at)),
        ("updated", format_time(package.updated_at)),
    ]
    if package.type == "docker":
        fields += [("image", package.image), ("username", package.username)]
    else:
        value = package.checksum_value
        fields += [("checksum", f"{package.checksum_type}:{value}" if value else "")]
    fields += [
        ("error", package.error),
        ("labels", _pairs(package.labels)),
        ("annotations", _pairs(package.annotations)),
    ]
    # A fixed width keeps the values of every package in the same column.
    return "\n".join(f"{name + ':':<12} {value}" for name, value in fields if value)


def job_details(job: Job) -> str:
    lines = [f"guid:      {job.guid}", f"operation: {job.operation}", f"state:     {job.state}"]
    lines += [f"error:     {e.get('title')}: {e.get('detail')}" for e in job.errors]
    lines += [f"warning:   {w}" for w in job.warnings]
    return "\n".join(lines)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2))


def error_message(error: Exception) -> str:
    """`title: detail` for API errors; the exception's type and text for the rest."""
    if isinstance(error, CapiError):
        return f"{error.title}: {error.detail}"
    return f"{type(error).__name__}: {error}"


def exit_code(error: Exception) -> int:
    if isinstance(error, WaitTimeoutError):
        return EXIT_TIMEOUT
    if isinstance(error, PackageFailedError | JobFailedError):
        return EXIT_FAILED
    if isinstance(error, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, NotAuthenticatedError | NotAuthorizedError):
        return EXIT_AUTH
    return EXIT_API_ERROR


def should_show_progress(total: int | None, stream: IO[str] | None = None) -> bool:
    """A bar only for people (stderr is a terminal) and only for transfers worth watching."""
    stream = stream if stream is not None else sys.stderr
    return bool(total and total > PROGRESS_MIN_BYTES and stream.isatty())


class ProgressBar:
    """A `progress(done, total)` callback that draws click's bar on stderr once it is worth it."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: Any = None
        self._decided = False
        self._shown = 0

    def __call__(self, done: int, total: int | None) -> None:
        if not self._decided:
            # The total is known only at the first chunk (after a push built its zip).
            self._decided = True
            if should_show_progress(total):
                self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
                self._bar.__enter__()
        if self._bar is not None:
            self._bar.update(done - self._shown)
            self._shown = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
