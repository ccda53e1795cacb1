"""POST /v3/resource_matches: which of the client's files the pool already holds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from capi_packages.features import require_app_bits_upload
from capi_packages.http.dependencies import AppSettings, DbSession, JsonBody, Perms
from capi_packages.http.responses import CFJSONResponse as JSONResponse
from capi_packages.resource_matches import service

router = APIRouter()


@router.post("/v3/resource_matches", status_code=201)
def create_resource_match(perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings) -> Any:
    require_app_bits_upload(perms.claims, settings)
    resources = service.validate_match_request(body)
    return JSONResponse({"resources": service.match(session, settings, resources)}, status_code=201)
