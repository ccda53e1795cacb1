"""Ours, outside /v3: whether an app already holds a pushed tree, and a new package copied from it.

CC copies packages only to other apps, so a push of an unchanged tree duplicates here instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from capi_packages.features import require_app_bits_upload
from capi_packages.http.dependencies import AppSettings, Blobstore, DbSession, JsonBody, Perms, Urls
from capi_packages.http.openapi import json_body
from capi_packages.http.responses import CFJSONResponse as JSONResponse
from capi_packages.packages.schemas import package_resource
from capi_packages.push_matches import service

router = APIRouter(tags=["push matches"])


_MATCH_REQUEST = {
    "type": "object",
    "required": ["tree_digest"],
    "properties": {"tree_digest": {"type": "string", "description": "sha256 (hex) of the tree's sorted entries"}},
}


@router.post("/x/apps/{guid}/push_matches", openapi_extra=json_body(_MATCH_REQUEST))
def match_pushed_tree(
    guid: str,
    perms: Perms,
    body: JsonBody,
    session: DbSession,
    settings: AppSettings,
    blobstore: Blobstore,
    urls: Urls,
) -> Any:
    """The newest READY bits package of the app holding exactly the tree of `tree_digest`, or null;
    `known_trees` counts the app's READY packages a tree could match (0: hashing first is wasted)."""
    require_app_bits_upload(perms.claims, settings)
    digest = service.parse_match_request(body)
    found = service.match_tree(session, perms, blobstore, guid, digest)
    pkg = found.package
    package = None if pkg is None else {"guid": pkg.guid, "links": {"self": {"href": urls(f"/v3/packages/{pkg.guid}")}}}
    return {"tree_digest": digest, "package": package, "known_trees": found.known_trees}


@router.post("/x/packages/{guid}/duplicate", status_code=201)
def duplicate_package(guid: str, perms: Perms, session: DbSession, settings: AppSettings, urls: Urls) -> Any:
    """A new package of the same app with this READY package's bits, copied on the server (COPYING)."""
    pkg = service.duplicate(session, perms, settings, guid)
    return JSONResponse(package_resource(pkg, urls, upload_method=settings.links_upload_method), status_code=201)
