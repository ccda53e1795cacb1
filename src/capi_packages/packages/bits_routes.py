"""Bits endpoints: upload (streamed multipart), download (302 to a signed URL, or 200), signed blobs.

With a store that presigns its own URLs (S3) the redirect goes straight to the store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from capi_packages.audit_events import recorder
from capi_packages.blobstore.base import BlobNotFound, PresignsDownloads
from capi_packages.blobstore.keys import package_key
from capi_packages.errors import (
    ApiError,
    BlobstoreUnavailable,
    NotAuthorized,
    ResourceNotFound,
    UnprocessableEntity,
)
from capi_packages.features import require_app_bits_upload
from capi_packages.http import request_bodies as bodies
from capi_packages.http.bodies import MAX_JSON_BODY, read_json, read_urlencoded, refuse_declared_over
from capi_packages.http.dependencies import (
    AppMetrics,
    AppSettings,
    Blobstore,
    DbSession,
    Perms,
    Signer,
    Urls,
    writes_on_get,
)
from capi_packages.http.files import ZeroCopyFileResponse
from capi_packages.http.multipart import UploadForm, read_upload_form
from capi_packages.http.openapi import query_parameters, responses
from capi_packages.http.responses import CFJSONResponse as JSONResponse
from capi_packages.packages.models import PackageState, PackageType
from capi_packages.packages.schemas import package_resource
from capi_packages.packages.service import get_visible
from capi_packages.packages.upload import (
    StagedBits,
    accept_upload,
    check_upload_target,
    parse_upload_message,
)

router = APIRouter()


async def _read_form(request: Request, settings: Any, blobstore: Any, *, stop_at_file: bool = False) -> UploadForm:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/"):
        return await read_upload_form(request, blobstore.staging, settings.max_upload_size, stop_at_file=stop_at_file)
    # CC also takes the form's fields as JSON or url-encoded (resources-only uploads).
    if content_type.startswith("application/x-www-form-urlencoded"):
        return UploadForm(fields=await read_urlencoded(request, MAX_JSON_BODY))
    body = await read_json(request)
    if not isinstance(body, dict):
        raise UnprocessableEntity("Resources must be valid JSON.")
    return UploadForm(fields=dict(body))


async def _body_error_before(request: Request, settings: Any, blobstore: Any, refusal: ApiError) -> ApiError:
    """CC validates the body before it looks the package up (§5.3): keep that order where it is cheap.

    The caller may not upload here, so no file is read: only the text fields before the first
    file part (the order the cf CLI and the seed client send them in) are looked at.
    """
    try:
        form = await _read_form(request, settings, blobstore, stop_at_file=True)
        parse_upload_message(form.fields, _UNREAD_FILE if form.stopped_at_file else None)
    except ApiError as body_error:
        return body_error
    return refusal


_UNREAD_FILE = StagedBits("", "", "")


@router.post("/v3/packages/{guid}/upload", openapi_extra=bodies.UPLOAD, responses=responses(502))
async def upload_package_bits(
    guid: str,
    request: Request,
    perms: Perms,
    session: DbSession,
    settings: AppSettings,
    urls: Urls,
    blobstore: Blobstore,
    metrics: AppMetrics,
) -> Any:
    # Everything the headers and the URL can decide is decided before a byte of the body is read.
    refuse_declared_over(request, settings.max_upload_size)
    require_app_bits_upload(perms.claims, settings)
    try:
        await run_in_threadpool(check_upload_target, session, perms, guid)
    except ApiError as refusal:
        raise await _body_error_before(request, settings, blobstore, refusal) from None
    finally:
        # No transaction (nor SQLite's write lock) stays open while the body streams in.
        await run_in_threadpool(session.rollback)
    form = await _read_form(request, settings, blobstore)
    staged = form.files.get("bits")
    if staged is not None:
        metrics.upload_bytes.inc(staged.size)
    try:
        bits = StagedBits(staged.name, staged.sha1, staged.sha256) if staged else None
        message = parse_upload_message(form.fields, bits)
        pkg = await run_in_threadpool(accept_upload, session, perms, guid, message)
        await run_in_threadpool(session.commit)
    except BaseException:
        form.discard()
        raise
    return JSONResponse(package_resource(pkg, urls, upload_method=settings.links_upload_method))


@router.get(
    "/v3/packages/{guid}/download",
    responses=responses(200, 206, media_type="application/zip")
    | responses(302, location=True)
    | responses(416, 422, 502),
)
@writes_on_get
def download_package_bits(
    guid: str,
    perms: Perms,
    session: DbSession,
    settings: AppSettings,
    urls: Urls,
    blobstore: Blobstore,
    signer: Signer,
) -> Response:
    pkg, app = get_visible(session, perms, guid)
    if not perms.can_read_secrets_in_space(app.space):
        raise NotAuthorized()
    if pkg.type != PackageType.BITS:
        raise UnprocessableEntity("Package type must be bits.")
    if pkg.state != PackageState.READY:
        raise UnprocessableEntity("Package has no bits to download.")
    key = package_key(pkg.guid)
    if not blobstore.exists(key):
        raise BlobstoreUnavailable()
    # Recorded when the download is asked for, committed before the answer (a 302 or the zip).
    recorder.record_package_download(session, perms.claims, pkg, app)
    if settings.download_mode == "stream":
        return _zip_response(blobstore, key, pkg.guid)
    if isinstance(blobstore, PresignsDownloads):
        # As CC does with fog: the client fetches from the store itself, with no token.
        location = blobstore.signed_url(key, settings.signed_url_ttl_seconds, f"{pkg.guid}.zip")
        return RedirectResponse(location, status_code=302)
    signed = signer.sign(f"/blobs/packages/{pkg.guid}", settings.signed_url_ttl_seconds)
    return RedirectResponse(urls(signed), status_code=302)


def _zip_response(blobstore: Any, key: str, guid: str) -> Response:
    path = blobstore.local_path(key)
    if path is not None:
        # Sent with sendfile(2) under our server; answers Range requests (206) itself.
        return ZeroCopyFileResponse(path, media_type="application/zip", filename=f"{guid}.zip")
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


@router.get(
    "/blobs/packages/{guid}",
    openapi_extra=query_parameters(expires="When the signature expires (Unix time)", signature="The URL's signature"),
    responses=responses(200, 206, media_type="application/zip") | responses(403, 416, 502),
)
def signed_package_blob(guid: str, request: Request, signer: Signer, blobstore: Blobstore) -> Response:
    """No bearer token here: the signature is the credential (clients drop Authorization on redirect)."""
    q = request.query_params
    if not signer.verify(f"/blobs/packages/{guid}", q.get("expires"), q.get("signature")):
        raise NotAuthorized()
    key = package_key(guid)
    if not blobstore.exists(key):
        raise ResourceNotFound("Package")
    return _zip_response(blobstore, key, guid)
