"""Package queries: lookups with the owning app, and the filtered, visible list."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, joinedload, lazyload

from capi_packages.db.listing import count_rows, fetch_page, label_clauses, label_count, timestamp_clauses
from capi_packages.listing import ListQuery, Page
from capi_packages.orgs.models import App, Organization, Space
from capi_packages.packages.models import Package, PackageLabel

# Up to this many packages matching a label selector are read from the label index and sorted.
SPARSE_MATCHES = 2000


def find_package(session: Session, guid: str) -> Package | None:
    return session.scalars(select(Package).where(Package.guid == guid)).first()


def find_package_with_app(session: Session, guid: str) -> tuple[Package, App] | None:
    # The app is there for its space and organization (who may see, who may write); its, its
    # space's and its organization's labels and annotations load only if someone reads them.
    space = joinedload(App.space)
    organization = space.joinedload(Space.organization)
    row = session.execute(
        select(Package, App)
        .join(App, App.guid == Package.app_guid)
        .where(Package.guid == guid)
        .options(
            lazyload(App.labels),
            lazyload(App.annotations),
            space.lazyload(Space.labels),
            space.lazyload(Space.annotations),
            organization.lazyload(Organization.labels),
            organization.lazyload(Organization.annotations),
        )
    ).first()
    return (row[0], row[1]) if row else None


def lock_for_update(session: Session, guid: str) -> Package | None:
    # SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL needs the row lock, and the row as it
    # is once the lock is ours (populate_existing), not as this session loaded it before waiting.
    stmt = select(Package).where(Package.guid == guid).with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def list_packages(
    session: Session, visible_space_ids: set[int] | None, query: ListQuery, app_guid: str | None = None
) -> Page[Package]:
    """The query's page of the packages in `visible_space_ids` (None: every space), optionally of one app.

    App, space and organization conditions are subqueries on the package's app_guid rather than
    joins, so a list that filters on none of them reads the packages table (or the label index) alone.
    """
    conditions: list[ColumnElement[bool]] = []
    if visible_space_ids is not None:
        conditions.append(Package.app_guid.in_(select(App.guid).where(App.space_id.in_(visible_space_ids))))
    if app_guid is not None:
        conditions.append(Package.app_guid == app_guid)
    filters = query.filters
    for key, column in (("guids", Package.guid), ("states", Package.state), ("types", Package.type)):
        if key in filters:
            conditions.append(column.in_(filters[key]))
    if "app_guids" in filters:
        conditions.append(Package.app_guid.in_(filters["app_guids"]))
    if "space_guids" in filters:
        spaces = select(Space.id).where(Space.guid.in_(filters["space_guids"]))
        conditions.append(Package.app_guid.in_(select(App.guid).where(App.space_id.in_(spaces))))
    if "organization_guids" in filters:
        orgs = select(Organization.id).where(Organization.guid.in_(filters["organization_guids"]))
        spaces = select(Space.id).where(Space.organization_id.in_(orgs))
        conditions.append(Package.app_guid.in_(select(App.guid).where(App.space_id.in_(spaces))))
    conditions += timestamp_clauses(Package, query.timestamps)
    selector = query.label_selector or []
    if not selector:
        return fetch_page(session, select(Package).where(*conditions), Package, query)
    by_index = label_clauses(PackageLabel, Package.guid, selector, from_index=True)
    only_labels = label_count(PackageLabel, selector) if not conditions else None
    if only_labels is not None:
        total = int(session.scalar(only_labels) or 0)
    else:
        total = count_rows(session, select(Package).where(*conditions, *by_index))
    # Few matches: read them from the label index and sort them; many: walk the packages in order
    # and stop when the page is full.
    labels = by_index if total <= SPARSE_MATCHES else label_clauses(PackageLabel, Package.guid, selector)
    return fetch_page(session, select(Package).where(*conditions, *labels), Package, query, total=total)


def lock_app_packages(session: Session, app_guid: str) -> None:
    """Serialise retention per app: the app row's lock on PostgreSQL (SQLite's writers are serial)."""
    session.execute(select(App.id).where(App.guid == app_guid).with_for_update())


def older_valid_packages(session: Session, app_guid: str, keep: int) -> list[Package]:
    """READY/FAILED packages of an app beyond the newest `keep` (CC's bits_expiration)."""
    from capi_packages.packages.models import PackageState

    rows = session.scalars(
        select(Package)
        .where(
            Package.app_guid == app_guid, or_(Package.state == PackageState.READY, Package.state == PackageState.FAILED)
        )
        .order_by(Package.created_at.desc(), Package.id.desc())
    ).all()
    return list(rows[keep:]) if len(rows) > keep else []


def count_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(Package.state, func.count()).group_by(Package.state))
    return {str(state): int(count) for state, count in rows}
