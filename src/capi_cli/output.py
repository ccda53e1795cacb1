"""How the client commands print: aligned tables and detail blocks for people, JSON for programs."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

import click
import httpx

from capi_client import (
    CapiError,
    Job,
    JobFailedError,
    NotAuthenticatedError,
    NotAuthorizedError,
    NotFoundError,
    Package,
    PackageFailedError,
    Role,
    WaitTimeoutError,
)
from capi_client.push import format_bytes

if TYPE_CHECKING:
    # rich is imported only when something is drawn (stderr a terminal): a script's command,
    # its stderr a pipe, starts without it.
    from rich.console import Console
    from rich.progress import Progress, TaskID

# Exit codes; 2 is click's own for usage errors.
EXIT_API_ERROR, EXIT_NOT_FOUND, EXIT_AUTH, EXIT_FAILED, EXIT_TIMEOUT = 1, 3, 4, 5, 6
# What a shell reports for a process ended by SIGPIPE.
EXIT_BROKEN_PIPE = 141

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


def role_details(role: Role) -> str:
    where = f"space {role.space_guid}" if role.space_guid else f"org {role.organization_guid}"
    return f"guid: {role.guid}\ntype: {role.type}\nuser: {role.user_guid}\nin:   {where}"


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2))


def error_message(error: Exception) -> str:
    """`title: detail` for API errors; for the rest a sentence naming what failed and where."""
    if isinstance(error, CapiError):
        return f"{error.title}: {error.detail}"
    if isinstance(error, httpx.TransportError):
        url = _request_url(error)
        reason = str(error) or type(error).__name__
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
            return f"Cannot connect to {url}: {reason}"
        if isinstance(error, httpx.TimeoutException):
            return f"{url} did not answer in time: {reason}"
        return f"The connection to {url} failed: {reason}"
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.strerror or type(error).__name__}: {error.filename}"
    return f"{type(error).__name__}: {error}" if not isinstance(error, ValueError) else str(error)


def _request_url(error: httpx.TransportError) -> str:
    try:
        url = error.request.url
    except RuntimeError:  # raised before a request existed
        return "the API"
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


def error_hint(error: Exception, *, logged_in: bool) -> str | None:
    """A second line saying what to do, where one thing usually helps."""
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return (
            "Check that the server is running (capi-packages serve) and that the API URL is right "
            "(capi-packages target, or --api / CAPI_API_URL)."
        )
    if isinstance(error, httpx.TransportError) and "CERTIFICATE_VERIFY_FAILED" in str(error):
        return "Trust its CA with CAPI_CA_FILE=ca.pem, or pass --skip-ssl-validation to login or target."
    if isinstance(error, NotAuthenticatedError) and not logged_in:
        return "Not logged in: run: capi-packages login"
    if isinstance(error, NotAuthenticatedError):
        return "The token was refused: run: capi-packages login"
    if isinstance(error, NotFoundError) and error.title == "CF-NotFound" and error.detail == "Unknown request":
        return "The API URL must be the API root (https://api.example.org), not a path under it."
    return None


def quiet_broken_pipe() -> None:
    """The reader of stdout went away (`... -o - | head`): stop without a traceback, as cat does."""
    # Point stdout at /dev/null so that the interpreter's last flush cannot fail again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(EXIT_BROKEN_PIPE)


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


def _console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, stderr=True)


class ProgressBar:
    """A `progress(done, total)` callback that draws a bar with bytes, rate and time left on
    stderr, once it is worth it (a terminal, and more than a megabyte)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._decided = False

    def __call__(self, done: int, total: int | None) -> None:
        if not self._decided:
            # The total is known only at the first chunk (after a push built its zip).
            self._decided = True
            if should_show_progress(total):
                from rich.progress import (
                    BarColumn,
                    DownloadColumn,
                    Progress,
                    TextColumn,
                    TimeRemainingColumn,
                    TransferSpeedColumn,
                )

                self._progress = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    DownloadColumn(),
                    TransferSpeedColumn(),
                    TimeRemainingColumn(),
                    console=_console(),
                    transient=False,
                )
                self._progress.start()
                self._task = self._progress.add_task(self.label, total=total)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ScanSpinner:
    """A `scan_progress(entries, bytes)` callback: a spinner with counts while a push reads and
    zips the tree; nothing when stderr is no terminal."""

    def __init__(self, label: str = "Zipping", stream: IO[str] | None = None) -> None:
        self.label = label
        shown = (stream if stream is not None else sys.stderr).isatty()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if shown:
            from rich.progress import Progress, SpinnerColumn, TextColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description} {task.fields[entries]} entries, {task.fields[size]}"),
                console=_console(),
                transient=True,
            )

    def __call__(self, entries: int, read: int) -> None:
        if self._progress is None:
            return
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task(self.label, entries=0, size="0 B")
        if entries % 64 == 0 or entries < 64:
            self._progress.update(self._task, entries=entries, size=format_bytes(read))

    def close(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.stop()
        self._progress = None

    def __enter__(self) -> ScanSpinner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
