"""Bits endpoints: upload (streamed multipart), download (302 to a signed URL, or 200), signed blobs.

With a store that presigns its own URLs (S3) the redirect goes straight to the store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from capi_packages.blobstore.base import BlobNotFound
from capi_packages.blobstore.keys import package_key
from capi_packages.errors import (
    BlobstoreUnavailable,
    NotAuthorized,
    ResourceNotFound,
    UnprocessableEntity,
)
from capi_packages.features import require_app_bits_upload
from capi_packages.http.dependencies import AppSettings, DbSession, Perms, Urls, get_json_body
from capi_packages.http.multipart import UploadForm, read_upload_form
from capi_packages.http.responses import CFJSONResponse as JSONResponse
from capi_packages.packages.models import PackageState, PackageType
from capi_packages.packages.schemas import package_resource
from capi_packages.packages.service import get_visible
from capi_packages.packages.upload import StagedBits, accept_upload, parse_upload_message

router = APIRouter()


async def _read_form(request: Request, settings: Any) -> UploadForm:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/"):
        blobstore = request.app.state.blobstore
        return await read_upload_form(request, blobstore.staging_dir(), settings.max_upload_size)
    # CC also takes the form's fields as JSON or url-encoded (resources-only uploads).
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        return UploadForm(fields={k: v for k, v in form.items() if isinstance(v, str)})
    body = await get_json_body(request)
    if not isinstance(body, dict):
        raise UnprocessableEntity("Resources must be valid JSON.")
    return UploadForm(fields=dict(body))


@router.post("/v3/packages/{guid}/upload")
async def upload_package_bits(
    guid: str, request: Request, perms: Perms, session: DbSession, settings: AppSettings, urls: Urls
) -> Any:
    require_app_bits_upload(perms.claims, settings)
    form = await _read_form(request, settings)
    staged = form.files.get("bits")
    try:
        bits = StagedBits(staged.path, staged.sha1, staged.sha256) if staged else None
        message = parse_upload_message(form.fields, bits)
        pkg = await run_in_threadpool(accept_upload, session, perms, guid, message)
        await run_in_threadpool(session.commit)
    except BaseException:
        form.discard()
        raise
    return JSONResponse(package_resource(pkg, urls, upload_method=settings.links_upload_method))


@router.get("/v3/packages/{guid}/download")
def download_package_bits(
    guid: str, request: Request, perms: Perms, session: DbSession, settings: AppSettings, urls: Urls
) -> Response:
    pkg, app = get_visible(session, perms, guid)
    if not perms.can_read_secrets_in_space(app.space):
        raise NotAuthorized()
    if pkg.type != PackageType.BITS:
        raise UnprocessableEntity("Package type must be bits.")
    if pkg.state != PackageState.READY:
        raise UnprocessableEntity("Package has no bits to download.")
    key = package_key(pkg.guid)
    blobstore = request.app.state.blobstore
    if not blobstore.exists(key):
        raise BlobstoreUnavailable()
    if settings.download_mode == "stream":
        return _zip_response(blobstore, key, pkg.guid)
    presign = getattr(blobstore, "signed_url", None)
    if presign is not None:
        # As CC does with fog: the client fetches from the store itself, with no token.
        return RedirectResponse(presign(key, settings.signed_url_ttl_seconds, f"{pkg.guid}.zip"), status_code=302)
    signed = request.app.state.url_signer.sign(f"/blobs/packages/{pkg.guid}", settings.signed_url_ttl_seconds)
    return RedirectResponse(urls(signed), status_code=302)


def _zip_response(blobstore: Any, key: str, guid: str) -> Response:
    path = blobstore.local_path(key)
    if path is not None:
        # FileResponse streams from disk and answers Range requests (206) itself.
        return FileResponse(path, media_type="application/zip", filename=f"{guid}.zip")
    # A remote store (S3): relay the object in 1 MiB chunks (whole body only, no Range).
    try:
        size = blobstore.size(key)
        blob = blobstore.open(key)
    except BlobNotFound as e:
        raise BlobstoreUnavailable() from e
    headers = {"Content-Length": str(size), "Content-Disposition": f'attachment; filename="{guid}.zip"'}
    return StreamingResponse(_chunks(blob), media_type="application/zip", headers=headers)


def _chunks(blob: BinaryIO, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
    try:
        while chunk := blob.read(chunk_size):
            yield chunk
    finally:
        blob.close()


@router.get("/blobs/packages/{guid}")
def signed_package_blob(guid: str, request: Request) -> Response:
    """No bearer token here: the signature is the credential (clients drop Authorization on redirect)."""
    q = request.query_params
    if not request.app.state.url_signer.verify(f"/blobs/packages/{guid}", q.get("expires"), q.get("signature")):
        raise NotAuthorized()
    blobstore = request.app.state.blobstore
    key = package_key(guid)
    if not blobstore.exists(key):
        raise ResourceNotFound("Package")
    return _zip_response(blobstore, key, guid)
