"""Who may do what: CC's role rules as plain predicates over the caller's roles."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from capi_packages.auth.tokens import Claims
from capi_packages.errors import (
    NotAuthorized,
    OrgSuspended,
    ResourceBeingDeleted,
    SpaceSuspended,
)
from capi_packages.orgs.models import Organization, Role, RoleType, Space, Status

SPACE_READ_ROLES = {
    RoleType.SPACE_DEVELOPER,
    RoleType.SPACE_MANAGER,
    RoleType.SPACE_AUDITOR,
    RoleType.SPACE_SUPPORTER,
}
# Space managers and org managers see no audit events; org auditors see all of their org's.
SPACE_EVENT_ROLES = {RoleType.SPACE_AUDITOR, RoleType.SPACE_DEVELOPER, RoleType.SPACE_SUPPORTER}


class Permissions:
    """The caller's roles, loaded once per request, and the questions CC's permission code asks."""

    def __init__(self, session: Session, claims: Claims) -> None:
        self.session = session
        self.claims = claims

    @cached_property
    def _roles(self) -> list[tuple[str, int | None, int | None]]:
        rows = self.session.execute(
            select(Role.type, Role.organization_id, Role.space_id).where(Role.user_guid == self.claims.user_id)
        )
        return [(r.type, r.organization_id, r.space_id) for r in rows]

    def _space_ids(self, types: set[RoleType]) -> set[int]:
        return {s for t, _, s in self._roles if s is not None and t in types}

    def _org_ids(self, types: set[RoleType]) -> set[int]:
        return {o for t, o, _ in self._roles if o is not None and t in types}

    @property
    def managed_org_ids(self) -> set[int]:
        return self._org_ids({RoleType.ORGANIZATION_MANAGER})

    @property
    def member_org_ids(self) -> set[int]:
        return self._org_ids(set(RoleType))

    # --- spaces ---------------------------------------------------------------------------
    def readable_space_ids(self) -> set[int] | None:
        """Spaces whose packages and apps the caller may read; None means every space."""
        if self.claims.can_read_globally:
            return None
        return set(self._readable_space_ids)

    @cached_property
    def _readable_space_ids(self) -> frozenset[int]:
        # Once per request, like the roles: a cached list asks for it, and the list behind it again.
        ids = self._space_ids(SPACE_READ_ROLES)
        if self.managed_org_ids:
            ids |= set(self.session.scalars(select(Space.id).where(Space.organization_id.in_(self.managed_org_ids))))
        return frozenset(ids)

    def can_read_space(self, space: Space) -> bool:
        if self.claims.can_read_globally:
            return True
        return space.id in self._space_ids(SPACE_READ_ROLES) or space.organization_id in self.managed_org_ids

    def can_write_space(self, space: Space) -> bool:
        return self.claims.is_admin or space.id in self._space_ids({RoleType.SPACE_DEVELOPER})

    def can_read_secrets_in_space(self, space: Space) -> bool:
        if self.claims.is_admin or self.claims.is_admin_read_only:
            return True
        return space.id in self._space_ids({RoleType.SPACE_DEVELOPER})

    def can_manage_space(self, space: Space) -> bool:
        return (
            self.claims.is_admin
            or space.organization_id in self.managed_org_ids
            or space.id in self._space_ids({RoleType.SPACE_MANAGER})
        )

    def require_writable_space(self, space: Space) -> None:
        """CC's require_writable_space!: deleting beats suspended; admins bypass everything."""
        if self.claims.is_admin:
            return
        org = space.organization
        if org.status == Status.DELETING:
            raise ResourceBeingDeleted("The organization is being deleted")
        if space.status == Status.DELETING:
            raise ResourceBeingDeleted("The space is being deleted")
        if org.status == Status.SUSPENDED:
            raise OrgSuspended()
        if space.status == Status.SUSPENDED and org.id not in self.managed_org_ids:
            raise SpaceSuspended()

    def require_write(self, space: Space) -> None:
        if not self.can_write_space(space):
            raise NotAuthorized()
        self.require_writable_space(space)

    # --- audit events ---------------------------------------------------------------------
    def readable_event_scope(self) -> tuple[set[str], set[str]] | None:
        """(space guids, organization guids) whose events the caller may read; None means all."""
        if self.claims.can_read_globally:
            return None
        space_ids = self._space_ids(SPACE_EVENT_ROLES)
        org_ids = self._org_ids({RoleType.ORGANIZATION_AUDITOR})
        spaces = set(self.session.scalars(select(Space.guid).where(Space.id.in_(space_ids)))) if space_ids else set()
        orgs = (
            set(self.session.scalars(select(Organization.guid).where(Organization.id.in_(org_ids))))
            if org_ids
            else set()
        )
        return spaces, orgs

    # --- organizations --------------------------------------------------------------------
    def readable_org_ids(self) -> set[int] | None:
        if self.claims.can_read_globally:
            return None
        space_ids = self._space_ids(set(RoleType))
        ids = set(self.member_org_ids)
        if space_ids:
            ids |= set(self.session.scalars(select(Space.organization_id).where(Space.id.in_(space_ids))))
        return ids

    def can_read_org(self, org: Organization) -> bool:
        ids = self.readable_org_ids()
        return ids is None or org.id in ids

    def can_manage_org(self, org: Organization) -> bool:
        return self.claims.is_admin or org.id in self.managed_org_ids

    def require_writable_org(self, org: Organization) -> None:
        if self.claims.is_admin:
            return
        if org.status == Status.DELETING:
            raise ResourceBeingDeleted("The organization is being deleted")
        if org.status == Status.SUSPENDED:
            raise OrgSuspended()
