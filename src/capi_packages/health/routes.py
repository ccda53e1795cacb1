"""GET /healthz (the process is alive) and GET /readyz (it can serve: database and blobstore answer)."""

from __future__ import annotations

from fastapi import APIRouter

from capi_packages.health.checks import readiness
from capi_packages.http.dependencies import Blobstore, DbEngine
from capi_packages.http.responses import CFJSONResponse as JSONResponse

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
def readyz(engine: DbEngine, blobstore: Blobstore) -> JSONResponse:
    # A plain def: FastAPI runs it in its thread pool, so a slow database does not stall the loop.
    result = readiness(engine, blobstore)
    return JSONResponse(result.body(), status_code=200 if result.ready else 503)
