"""Thin HTTP handlers for apply_manifest, manifest_diff and GET /v3/apps/{guid}/manifest."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from capi_packages.apps import service as apps
from capi_packages.errors import BadRequest, NotAuthorized
from capi_packages.http import request_bodies as bodies
from capi_packages.http.dependencies import DbSession, Perms, Urls
from capi_packages.http.openapi import responses
from capi_packages.http.responses import CFJSONResponse as JSONResponse
from capi_packages.manifests import service
from capi_packages.manifests.yaml_load import MAX_MANIFEST_BYTES, check_content_type, load_manifest

router = APIRouter()


async def _manifest_body(request: Request) -> dict[str, Any]:
    check_content_type(request.headers.get("content-type"))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_MANIFEST_BYTES:
            raise BadRequest("Manifest size is too large. The maximum supported size is 1MB.")
        chunks.append(chunk)
    return load_manifest(b"".join(chunks))


@router.post("/v3/spaces/{guid}/actions/apply_manifest", status_code=202, openapi_extra=bodies.MANIFEST)
async def apply_manifest(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Response:
    document = await _manifest_body(request)
    job = await run_in_threadpool(service.apply_manifest, session, perms, guid, document)
    return Response(status_code=202, headers={"Location": urls.v3(f"/jobs/{job.guid}")})


@router.post("/v3/spaces/{guid}/manifest_diff", status_code=201, openapi_extra=bodies.MANIFEST)
async def manifest_diff(guid: str, request: Request, perms: Perms, session: DbSession) -> Any:
    document = await _manifest_body(request)
    diff = await run_in_threadpool(service.diff_manifest, session, perms, guid, document)
    return JSONResponse({"diff": diff}, status_code=201)


@router.get("/v3/apps/{guid}/manifest", responses=responses(200, media_type="application/x-yaml"))
def app_manifest(guid: str, perms: Perms, session: DbSession) -> Response:
    app = apps.get_app(session, perms, guid)
    if not perms.can_read_secrets_in_space(app.space):
        raise NotAuthorized()
    text = yaml.safe_dump(service.app_manifest(session, app), sort_keys=False, default_flow_style=False)
    return Response(content="---\n" + text, media_type="application/x-yaml")
