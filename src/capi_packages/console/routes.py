"""Console pages: orgs → spaces → apps → packages, a package's files, one file, and a diff of two pushes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from capi_packages.auth.permissions import Permissions
from capi_packages.blobstore.base import BlobNotFound, PresignsDownloads
from capi_packages.blobstore.base import Blobstore as BlobstoreProtocol
from capi_packages.blobstore.keys import package_key
from capi_packages.console import views
from capi_packages.console.pages import current_claims, page, render, secure
from capi_packages.entries import service as entries
from capi_packages.entries.downloads import entry_download, read_start
from capi_packages.errors import ApiError, ResourceNotFound
from capi_packages.http.dependencies import AppSettings, Blobstore, DbSession, Indexes, Signer, Urls
from capi_packages.listing import ListQuery, parse_list_query
from capi_packages.orgs import service as orgs
from capi_packages.packages import service as packages
from capi_packages.packages.models import Package, PackageState, PackageType
from capi_packages.packages.schemas import APP_PACKAGES_LIST

router = APIRouter(prefix="/console", include_in_schema=False)

EVERYTHING = ListQuery(per_page=5000)
STATES = [s.value for s in PackageState]
TYPES = [t.value for t in PackageType]
LIVE_STATES = {PackageState.PROCESSING_UPLOAD, PackageState.COPYING}


def _perms(request: Request, session: Any) -> Permissions:
    return Permissions(session, current_claims(request))


def _zip_size(blobstore: BlobstoreProtocol, pkg: Package) -> int | None:
    if pkg.type != PackageType.BITS or pkg.state != PackageState.READY:
        return None
    try:
        return int(blobstore.size(package_key(pkg.guid)))
    except BlobNotFound:
        return None


@router.get("")
@page
def home(request: Request, session: DbSession) -> Response:
    perms = _perms(request, session)
    org_rows = orgs.list_orgs(session, perms, EVERYTHING).rows
    space_rows = orgs.list_spaces(session, perms, EVERYTHING).rows
    app_rows = orgs.list_apps(session, perms, EVERYTHING).rows
    apps_by_space: dict[int, list[Any]] = {}
    for app in app_rows:
        apps_by_space.setdefault(app.space_id, []).append(app)
    spaces_by_org: dict[int, list[Any]] = {}
    for space in space_rows:
        spaces_by_org.setdefault(space.organization_id, []).append(space)
    return render(request, "home.html", orgs=org_rows, spaces_by_org=spaces_by_org, apps_by_space=apps_by_space)


def _filters(request: Request) -> tuple[dict[str, Any], str]:
    """The filter form's values, and the same filters as an API query (lists comma-joined, as CC takes them)."""
    params = request.query_params
    states = [s for s in params.getlist("states") if s]
    types = [t for t in params.getlist("types") if t]
    selector = params.get("label_selector", "")
    query = {key: ",".join(values) for key, values in (("states", states), ("types", types)) if values}
    if selector:
        query["label_selector"] = selector
    if params.get("page"):
        query["page"] = params["page"]
    return {"states": states, "types": types, "label_selector": selector}, urlencode(query)


@router.get("/apps/{guid}")
@page
def app_packages(guid: str, request: Request, session: DbSession, blobstore: Blobstore) -> Response:
    perms = _perms(request, session)
    app = orgs.get_app(session, perms, guid)
    chosen, api_query = _filters(request)
    rows: Sequence[Package] = []
    total, problem = 0, None
    try:
        query = parse_list_query(api_query, APP_PACKAGES_LIST)
        query = replace(query, order_by=("created_at", True), per_page=25)
        found = packages.list_packages(session, perms, query, app_guid=app.guid)
        rows, total = found.rows, found.total
    except ApiError as error:  # a bad label selector: show why, with the form to fix it
        problem, query = error, ListQuery(per_page=25)
    pages = max(1, -(-total // query.per_page))
    link = {k: v for k, v in request.query_params.multi_items() if k != "page"}

    def page_link(number: int) -> str:
        return f"?{urlencode([*link.items(), ('page', str(number))])}"

    return render(
        request,
        "app.html",
        app=app,
        rows=[(pkg, _zip_size(blobstore, pkg)) for pkg in rows],
        total=total,
        page=query.page,
        pages=pages,
        page_link=page_link,
        chosen=chosen,
        states=STATES,
        types=TYPES,
        live=LIVE_STATES,
        problem=problem,
    )


@router.get("/packages/{guid}/row")
@page
def package_row(guid: str, request: Request, session: DbSession, blobstore: Blobstore) -> Response:
    """One row of an app's package table; rows of packages still being processed poll this."""
    pkg = packages.get(session, _perms(request, session), guid)
    return render(request, "_package_row.html", pkg=pkg, size=_zip_size(blobstore, pkg), live=LIVE_STATES)


def _app_packages(session: Any, perms: Permissions, app_guid: str) -> list[Package]:
    return list(packages.list_packages(session, perms, EVERYTHING, app_guid=app_guid).rows)


@router.get("/packages/{guid}")
@page
def package_files(guid: str, request: Request, session: DbSession, indexes: Indexes, blobstore: Blobstore) -> Response:
    perms = _perms(request, session)
    pkg, app = packages.get_visible(session, perms, guid)
    path = entries.normalise_dir(request.query_params.get("dir", ""))
    listing, problem = None, None
    try:
        entries.readable_bits(session, perms, guid, "show")
        listing = views.directory_listing(entries.load_index(indexes, guid), path)
        if listing is None:
            raise ResourceNotFound("Directory")
    except ApiError as error:
        problem = error
    siblings = [p for p in _app_packages(session, perms, app.guid) if p.guid != guid]
    comparable = [p for p in siblings if p.type == PackageType.BITS and p.state == PackageState.READY]
    return render(
        request,
        "package.html",
        pkg=pkg,
        app=app,
        size=_zip_size(blobstore, pkg),
        listing=listing,
        crumbs=views.breadcrumbs(path),
        problem=problem,
        previous=entries.previous_package_guid([*siblings, pkg], guid),
        comparable=sorted(comparable, key=lambda p: p.created_at, reverse=True),
        live=LIVE_STATES,
    )


@router.get("/packages/{guid}/files/{path:path}")
@page
def package_file(guid: str, path: str, request: Request, session: DbSession, indexes: Indexes) -> Response:
    perms = _perms(request, session)
    pkg, app = packages.get_visible(session, perms, guid)
    entry = entries.find_entry(session, perms, indexes, guid, path)
    text = None
    if entry.size <= views.TEXT_LIMIT:
        text = views.as_text(read_start(indexes, guid, entry, views.TEXT_LIMIT))
    parent = entry.path.rpartition("/")[0]
    return render(request, "file.html", pkg=pkg, app=app, entry=entry, text=text, crumbs=views.breadcrumbs(parent))


@router.get("/packages/{guid}/raw/{path:path}")
@page
def package_file_download(guid: str, path: str, request: Request, session: DbSession, indexes: Indexes) -> Response:
    entry = entries.find_entry(session, _perms(request, session), indexes, guid, path)
    return entry_download(request, indexes, guid, entry)


@router.get("/packages/{guid}/download")
@page
def package_download(
    guid: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    blobstore: Blobstore,
    signer: Signer,
    urls: Urls,
) -> Response:
    """The whole zip, by the same signed URL `GET /v3/packages/{guid}/download` redirects to."""
    entries.readable_bits(session, _perms(request, session), guid, "download")
    ttl = settings.signed_url_ttl_seconds
    if isinstance(blobstore, PresignsDownloads):
        location = blobstore.signed_url(package_key(guid), ttl, f"{guid}.zip")
    else:
        location = urls(signer.sign(f"/blobs/packages/{guid}", ttl))
    return secure(RedirectResponse(location, status_code=303))


@router.get("/packages/{guid}/diff")
@page
def package_diff(guid: str, request: Request, session: DbSession, indexes: Indexes) -> Response:
    perms = _perms(request, session)
    pkg, app = packages.get_visible(session, perms, guid)
    against = request.query_params.get("against", "")
    if not against:
        return secure(RedirectResponse(f"/console/packages/{guid}", status_code=303))
    comparison = entries.diff_packages(session, perms, indexes, guid, against)
    return render(
        request,
        "diff.html",
        pkg=pkg,
        app=app,
        comparison=comparison,
        tree=views.change_tree(comparison.diff),
    )
