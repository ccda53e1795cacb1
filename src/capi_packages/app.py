"""create_app(settings): routers, error handlers, state and the in-process job worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from capi_packages import __version__
from capi_packages.apps import routes as app_routes
from capi_packages.audit_events import jobs as audit_event_jobs
from capi_packages.audit_events import routes as audit_event_routes
from capi_packages.auth.keys import load_or_create_signing_key
from capi_packages.auth.secrets import SecretBox
from capi_packages.auth.signed_urls import UrlSigner, load_or_create_secret
from capi_packages.auth.tokens import TokenVerifier
from capi_packages.blobstore import make_blobstore
from capi_packages.console import login_routes as console_login_routes
from capi_packages.console import routes as console_routes
from capi_packages.console.pages import HERE as CONSOLE_DIR
from capi_packages.db.session import make_engine, make_sessionmaker, read_only_view
from capi_packages.entries import routes as entry_routes
from capi_packages.entries.indexes import EntryIndexes
from capi_packages.health import routes as health_routes
from capi_packages.http import docs, error_handlers, openapi
from capi_packages.http.access import AccessMiddleware
from capi_packages.http.head import HeadAsGet
from capi_packages.http.request_id import RequestIdMiddleware
from capi_packages.http.response_cache import ResponseCache
from capi_packages.http.responses import CFJSONResponse as JSONResponse
from capi_packages.jobs import routes as job_routes
from capi_packages.jobs.registry import Registry
from capi_packages.jobs.worker import Worker
from capi_packages.login import routes as login_routes
from capi_packages.manifests import jobs as manifest_jobs
from capi_packages.manifests import routes as manifest_routes
from capi_packages.metrics import routes as metrics_routes
from capi_packages.metrics.collectors import DatabaseCollector
from capi_packages.metrics.registry import Metrics
from capi_packages.orgs import jobs as org_jobs
from capi_packages.orgs import routes as org_routes
from capi_packages.packages import bits_routes, upload_job
from capi_packages.packages import jobs as package_jobs
from capi_packages.packages import routes as package_routes
from capi_packages.processes import routes as process_routes
from capi_packages.push_matches import routes as push_match_routes
from capi_packages.resource_matches import routes as resource_match_routes
from capi_packages.roles import routes as role_routes
from capi_packages.settings import Settings
from capi_packages.urls import UrlBuilder
from capi_packages.users import jobs as user_jobs
from capi_packages.users import routes as user_routes

CC_API_VERSION = "3.195.0"
log = logging.getLogger("capi_packages")


def build_registry() -> Registry:
    registry = Registry()
    package_jobs.register(registry)
    upload_job.register(registry)
    org_jobs.register(registry)
    user_jobs.register(registry)
    manifest_jobs.register(registry)
    audit_event_jobs.register(registry)
    return registry


def create_app(settings: Settings) -> FastAPI:
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    blobstore = make_blobstore(settings)
    signing_key = load_or_create_signing_key(settings.signing_key_file)
    registry = build_registry()
    metrics = Metrics()
    metrics.registry.register(DatabaseCollector(sessions, engine, registry.operations, "api"))
    worker = Worker(sessions, settings, blobstore, registry, metrics=metrics)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.worker_enabled:
            worker.start()
        try:
            yield
        finally:
            worker.stop(settings.worker_shutdown_grace_seconds)
            blobstore.close()
            engine.dispose()

    app = FastAPI(
        title="capi-packages",
        version=__version__,
        description="Cloud Foundry v3 Packages API",
        lifespan=lifespan,
        default_response_class=JSONResponse,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=openapi.operation_id,
    )
    external_pem = settings.jwt_public_key_file.read_bytes() if settings.jwt_public_key_file else None
    app.state.settings = settings
    app.state.engine = engine
    app.state.read_only_engine = read_only_view(engine)
    app.state.sessionmaker = sessions
    app.state.blobstore = blobstore
    app.state.signing_key = signing_key
    app.state.secret_box = SecretBox.from_file(settings.data_dir / "keys" / "db-encryption-key")
    app.state.token_verifier = TokenVerifier(
        audience=settings.jwt_audience,
        local_key=signing_key if settings.local_issuer_enabled else None,
        local_issuer=settings.local_token_issuer,
        external_pem=external_pem,
        jwks_url=settings.jwks_url,
        external_issuer=settings.external_token_issuer,
    )
    app.state.urls = UrlBuilder(settings.base_url)
    app.state.url_signer = UrlSigner(load_or_create_secret(settings.data_dir / "keys" / "url-signing-key"))
    app.state.registry = registry
    app.state.entry_indexes = EntryIndexes(blobstore)
    app.state.worker = worker
    app.state.metrics = metrics
    app.state.list_cache = ResponseCache()

    error_handlers.install(app)
    openapi.install(app)
    docs.install(app)
    app.add_middleware(HeadAsGet)
    # Added last is outermost: the request id is set before the access line is written.
    app.add_middleware(AccessMiddleware, metrics=metrics, log_requests=settings.access_log)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health_routes.router)
    app.include_router(metrics_routes.router)
    app.include_router(bits_routes.router)
    app.include_router(package_routes.router)
    app.include_router(resource_match_routes.router)
    app.include_router(org_routes.router)
    app.include_router(role_routes.router)
    app.include_router(user_routes.router)
    app.include_router(process_routes.router)
    app.include_router(app_routes.router)
    app.include_router(manifest_routes.router)
    app.include_router(job_routes.router)
    app.include_router(login_routes.router)
    app.include_router(audit_event_routes.router)
    app.include_router(entry_routes.router)
    app.include_router(push_match_routes.router)
    if settings.console_enabled:
        app.include_router(console_login_routes.router)
        app.include_router(console_routes.router)
        app.mount("/console/static", StaticFiles(directory=CONSOLE_DIR / "static"), name="console-static")

    @app.get("/", tags=["root"])
    def root(request: Request) -> JSONResponse:
        return JSONResponse(root_links(settings))

    @app.get("/v3", tags=["root"])
    def v3_root() -> JSONResponse:
        base = settings.base_url
        names = [
            "apps",
            "audit_events",
            "deployments",
            "jobs",
            "organizations",
            "packages",
            "processes",
            "resource_matches",
            "roles",
            "routes",
            "spaces",
            "users",
        ]
        links: dict[str, Any] = {"self": {"href": f"{base}/v3"}}
        links.update({n: {"href": f"{base}/v3/{n}"} for n in names})
        return JSONResponse({"links": links})

    return app


def root_links(settings: Settings) -> dict[str, Any]:
    base = settings.base_url
    # With no external UAA, this service is its own token issuer (POST /oauth/token).
    login = settings.uaa_url.rstrip("/") if settings.uaa_url else base
    return {
        "links": {
            "self": {"href": base},
            "bits_service": None,
            "cloud_controller_v2": None,
            "cloud_controller_v3": {"href": f"{base}/v3", "meta": {"version": CC_API_VERSION}},
            "network_policy_v0": None,
            "network_policy_v1": None,
            "login": {"href": login},
            "uaa": {"href": login},
            "credhub": None,
            "routing": None,
            "logging": None,
            "log_cache": None,
            "log_stream": None,
            "app_ssh": None,
        }
    }
