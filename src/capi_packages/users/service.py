"""User use cases: list, show, create, delete; users recorded from tokens; names resolved for roles."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from capi_packages.auth.permissions import Permissions
from capi_packages.auth.tokens import Claims
from capi_packages.db.listing import fetch_page, label_clauses, timestamp_clauses
from capi_packages.errors import NotAuthorized, ResourceNotFound, UnprocessableEntity
from capi_packages.jobs.models import Job
from capi_packages.jobs.queue import enqueue
from capi_packages.listing import ListQuery, Page
from capi_packages.login.models import Login
from capi_packages.metadata.rows import apply_metadata
from capi_packages.settings import Settings
from capi_packages.users import repository as repo
from capi_packages.users.models import LOCAL_ORIGIN, User, UserAnnotation, UserLabel
from capi_packages.users.schemas import parse_user_create

_SEEN_LIMIT = 10_000
_seen: set[str] = set()
_seen_lock = threading.Lock()


def already_recorded(claims: Claims) -> bool:
    """Whether this process has recorded (or found) the token's user already."""
    return claims.user_id in _seen


def record_token_user(sessions: sessionmaker[Session], claims: Claims) -> None:
    """CC creates a user row the first time a token names it; so do we, with the token's name.

    Runs in its own short transaction before the request's, so it never waits on the request's lock.
    """
    if claims.user_id in _seen:
        return
    with sessions() as session:
        if repo.find_user(session, claims.user_id) is None:
            named = (
                not claims.is_client
                and claims.user_name
                and not repo.find_by_username(session, claims.user_name, claims.origin)
            )
            session.add(
                User(
                    guid=claims.user_id,
                    username=claims.user_name if named else None,
                    origin=claims.origin if named else None,
                )
            )
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # another request recorded it first
    with _seen_lock:
        if len(_seen) >= _SEEN_LIMIT:
            _seen.clear()
        _seen.add(claims.user_id)


def forget_seen(guid: str) -> None:
    with _seen_lock:
        _seen.discard(guid)


def username_of(session: Session, guid: str) -> str | None:
    """The user's name as UAA would give it to CC; None for a user known only by guid."""
    user = repo.find_user(session, guid)
    return user.username if user is not None else None


def ensure_user(session: Session, guid: str) -> User:
    """The user with this guid, created as CC's create_cc_user does when a role first names it."""
    user = repo.find_user(session, guid)
    if user is None:
        user = User(guid=guid)
        session.add(user)
        session.flush()
    return user


def create_local_user(session: Session, guid: str, username: str) -> User:
    user = repo.find_user(session, guid)
    if user is None:
        user = User(guid=guid, username=username, origin=LOCAL_ORIGIN)
        session.add(user)
    else:
        user.username, user.origin = username, LOCAL_ORIGIN
    session.flush()
    return user


def resolve_username(session: Session, username: str, origin: str | None) -> User | None:
    """CC's UAA lookup for roles by username; raises CC's 422 when the origin is ambiguous."""
    matches = repo.find_by_username(session, username, origin)
    if origin is None and len({u.origin for u in matches}) > 1:
        origins = ", ".join(sorted(str(u.origin) for u in matches))
        raise UnprocessableEntity(
            f"Ambiguous user. User with username '{username}' exists in the following origins: "
            f"{origins}. Specify an origin to disambiguate."
        )
    return matches[0] if matches else None


def list_users(session: Session, perms: Permissions, query: ListQuery) -> Page[User]:
    stmt = repo.visible_users(_visible_org_ids(perms), perms.claims.user_id)
    filters = query.filters
    if filters.get("guids") is not None:
        stmt = stmt.where(User.guid.in_(filters["guids"]))
    if filters.get("usernames") is not None:
        stmt = repo.name_filter(stmt, filters["usernames"], filters.get("origins"), partial=False)
    if filters.get("partial_usernames") is not None:
        stmt = repo.name_filter(stmt, filters["partial_usernames"], filters.get("origins"), partial=True)
    stmt = stmt.where(*label_clauses(UserLabel, User.guid, query.label_selector or []))
    stmt = stmt.where(*timestamp_clauses(User, query.timestamps))
    return fetch_page(session, stmt, User, query)


def _visible_org_ids(perms: Permissions) -> set[int] | None:
    return None if perms.claims.can_read_globally else perms.member_org_ids


def get_user(session: Session, perms: Permissions, guid: str) -> User:
    user = find_visible_user(session, perms, guid)
    if user is None:
        raise ResourceNotFound("User")
    return user


def create_user(session: Session, perms: Permissions, settings: Settings, body: Any) -> User:
    if not perms.claims.is_admin:
        raise NotAuthorized()
    msg = parse_user_create(body)
    if msg.guid is not None:
        if repo.find_user(session, msg.guid) is not None:
            raise UnprocessableEntity(f"User with guid '{msg.guid}' already exists.")
        user = User(guid=msg.guid)
    else:
        assert msg.username is not None and msg.origin is not None
        if repo.find_by_username(session, msg.username, msg.origin):
            raise UnprocessableEntity(f"User with username '{msg.username}' and origin '{msg.origin}' already exists.")
        user = User(username=msg.username, origin=msg.origin)
    user.labels, user.annotations = [], []
    session.add(user)
    apply_metadata(
        user,
        msg.labels,
        msg.annotations,
        (UserLabel, UserAnnotation),
        max_labels=settings.max_labels_per_resource,
        max_annotations=settings.max_annotations_per_resource,
    )
    session.flush()
    return user


def delete_user(session: Session, perms: Permissions, guid: str) -> Job:
    user = get_user(session, perms, guid)
    if not perms.claims.is_admin:
        raise NotAuthorized()
    return enqueue(session, "user.delete", {"guid": user.guid}, resource_type="user", resource_guid=user.guid)


def delete_user_now(session: Session, guid: str) -> None:
    """The user, its roles (the foreign key cascades) and its metadata go; so does a local login."""
    user = repo.find_user(session, guid)
    if user is not None:
        session.delete(user)
    login = session.scalars(select(Login).where(Login.guid == guid, Login.kind == "user")).first()
    if login is not None:
        session.delete(login)
    session.flush()
    forget_seen(guid)


def find_visible_user(session: Session, perms: Permissions, guid: str) -> User | None:
    stmt = repo.visible_users(_visible_org_ids(perms), perms.claims.user_id).where(User.guid == guid)
    user: User | None = session.scalars(stmt).first()
    return user
