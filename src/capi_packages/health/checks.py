"""Is the database answering, is the blobstore there: one line each saying what is wrong and which setting."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from capi_packages.blobstore.base import Blobstore, BlobstoreFailure


class NotReady(Exception):
    """A dependency of the service does not answer; the message is one line naming the setting."""


def shown_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def check_database(engine: Engine) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()
        raise NotReady(
            f"cannot reach the database at {shown_url(engine)} (CAPI_DATABASE_URL): "
            f"{reason[0] if reason else type(e).__name__}"
        ) from e


def check_blobstore(blobstore: Blobstore, *, write: bool = False) -> None:
    try:
        blobstore.check(write=write)
    except BlobstoreFailure as e:
        raise NotReady(str(e)) from e


@dataclass
class Readiness:
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return not self.failures

    def body(self) -> dict[str, object]:
        checks = {name: {"status": "ok"} for name in ("database", "blobstore")}
        for name, reason in self.failures.items():
            checks[name] = {"status": "failed", "error": reason}
        return {"status": "ready" if self.ready else "not ready", "checks": checks}


def readiness(engine: Engine, blobstore: Blobstore) -> Readiness:
    """Both checks, each whatever the other's outcome, so that the answer names all that failed."""
    result = Readiness()
    try:
        check_database(engine)
    except NotReady as e:
        result.failures["database"] = str(e)
    try:
        check_blobstore(blobstore)
    except NotReady as e:
        result.failures["blobstore"] = str(e)
    return result
