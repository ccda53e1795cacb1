"""FastAPI dependencies as Annotated aliases: DbSession, CurrentUser, Perms, AppSettings, Body, ...

The only code that reads `app.state`: route modules name what they need with these aliases.
Getters that only read app.state are `async def`: FastAPI runs a plain `def` dependency in a
worker thread, a hand-off that costs more than the getter on every request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from capi_packages.auth.keys import SigningKey
from capi_packages.auth.permissions import Permissions
from capi_packages.auth.secrets import SecretBox
from capi_packages.auth.signed_urls import UrlSigner
from capi_packages.auth.tokens import Claims, TokenVerifier
from capi_packages.blobstore.base import Blobstore as BlobstoreProtocol
from capi_packages.entries.indexes import EntryIndexes
from capi_packages.errors import NotAuthorized
from capi_packages.http.access import USER_GUID
from capi_packages.http.bodies import read_json
from capi_packages.http.response_cache import ResponseCache
from capi_packages.metrics.registry import Metrics
from capi_packages.settings import Settings
from capi_packages.urls import UrlBuilder
from capi_packages.users.service import already_recorded, record_token_user

F = TypeVar("F", bound=Callable[..., Any])
WRITES_ON_GET = "capi_writes_on_get"


def writes_on_get(endpoint: F) -> F:
    """Mark a GET route that writes (a download records its audit event), so that its transaction
    takes SQLite's write lock up front instead of failing to upgrade a read snapshot."""
    setattr(endpoint, WRITES_ON_GET, True)
    return endpoint


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on any error.

    Made on the event loop (no connection is taken yet); ended in one worker thread, shielded
    from cancellation so that a client going away never leaves a commit half-run."""
    writes = getattr(request.scope.get("endpoint"), WRITES_ON_GET, False)
    reads = request.method in ("GET", "HEAD") and not writes
    if reads:
        # Bound to the read-only view of the engine, not given a connection now: a request holds
        # one connection at a time, and the token's user is recorded (in a session of its own)
        # before this one's first query.
        engine = request.app.state.read_only_engine
        session: Session = request.app.state.sessionmaker(bind=engine)
    else:
        engine = request.app.state.engine
        session = request.app.state.sessionmaker()
    # Ending a read does no I/O worth a thread (an SQLite read's end is a call into the library,
    # a PostgreSQL read runs in autocommit); a write's commit is ended in a thread.
    inline = reads
    try:
        yield session
    except BaseException:
        if inline:
            _end(session, commit=False)
        else:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(_end, session, commit=False)
        raise
    if inline:
        _end(session, commit=True)
    else:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_end, session, commit=True)


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_claims(request: Request) -> Claims:
    """Authenticate, then apply CC's scope gate: reads need a read scope, everything else write.

    On the event loop: a token verified before is a dictionary lookup; a new one is verified in a
    thread (RSA, and perhaps fetching an external issuer's keys)."""
    verifier: TokenVerifier = request.app.state.token_verifier
    authorization = request.headers.get("authorization")
    claims = verifier.remembered(authorization)
    if claims is None:
        claims = await run_in_threadpool(verifier.verify_header, authorization)
    request.scope[USER_GUID] = claims.user_id
    if request.method in ("GET", "HEAD"):
        if not claims.has_read_scope:
            raise NotAuthorized()
    elif not claims.has_write_scope:
        raise NotAuthorized()
    return claims


async def get_json_body(request: Request) -> Any:
    return await read_json(request)


AppSettings = Annotated[Settings, Depends(get_settings)]
DbSession = Annotated[Session, Depends(get_session, scope="function")]
CurrentUser = Annotated[Claims, Depends(get_claims)]
JsonBody = Annotated[Any, Depends(get_json_body)]


async def get_urls(request: Request) -> UrlBuilder:
    urls: UrlBuilder = request.app.state.urls
    return urls


Urls = Annotated[UrlBuilder, Depends(get_urls)]


async def get_permissions(request: Request, claims: CurrentUser, session: DbSession) -> Permissions:
    # Claims before the session: the token's user is recorded before the request's transaction
    # begins, so the request sees it. A user recorded before costs no thread hand-off.
    if not already_recorded(claims):
        await run_in_threadpool(record_token_user, request.app.state.sessionmaker, claims)
    return Permissions(session, claims)


Perms = Annotated[Permissions, Depends(get_permissions)]


async def get_blobstore(request: Request) -> BlobstoreProtocol:
    blobstore: BlobstoreProtocol = request.app.state.blobstore
    return blobstore


async def get_url_signer(request: Request) -> UrlSigner:
    signer: UrlSigner = request.app.state.url_signer
    return signer


async def get_secret_box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


async def get_signing_key(request: Request) -> SigningKey:
    key: SigningKey = request.app.state.signing_key
    return key


async def get_token_verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier


async def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    """For routes that open their own short sessions (the token endpoint) instead of the request's."""
    sessions: sessionmaker[Session] = request.app.state.sessionmaker
    return sessions


async def get_entry_indexes(request: Request) -> EntryIndexes:
    indexes: EntryIndexes = request.app.state.entry_indexes
    return indexes


async def get_engine(request: Request) -> Engine:
    """For the readiness probe, which asks the database itself rather than through a request's session."""
    engine: Engine = request.app.state.engine
    return engine


async def get_list_cache(request: Request) -> ResponseCache:
    cache: ResponseCache = request.app.state.list_cache
    return cache


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


Blobstore = Annotated[BlobstoreProtocol, Depends(get_blobstore)]
DbEngine = Annotated[Engine, Depends(get_engine)]
AppMetrics = Annotated[Metrics, Depends(get_metrics)]
Signer = Annotated[UrlSigner, Depends(get_url_signer)]
Secrets = Annotated[SecretBox, Depends(get_secret_box)]
TokenSigningKey = Annotated[SigningKey, Depends(get_signing_key)]
Verifier = Annotated[TokenVerifier, Depends(get_token_verifier)]
Sessions = Annotated[sessionmaker[Session], Depends(get_sessionmaker)]
Indexes = Annotated[EntryIndexes, Depends(get_entry_indexes)]
ListCache = Annotated[ResponseCache, Depends(get_list_cache)]
