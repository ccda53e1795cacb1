"""GET /v3/jobs/{guid}: any caller with a read scope may read any job, as in CC."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from capi_packages.errors import ResourceNotFound
from capi_packages.http.dependencies import CurrentUser, DbSession, Urls
from capi_packages.jobs import service

router = APIRouter()


@router.get("/v3/jobs/{guid}")
def get_job(guid: str, _user: CurrentUser, session: DbSession, urls: Urls) -> dict[str, Any]:
    job = service.find_job(session, guid)
    if job is None:
        raise ResourceNotFound("Job")
    return service.job_resource(session, job, urls)
