"""The setup calls of PackagesClient: organizations, spaces, apps and roles, what a package hangs on."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from capi_client.errors import CapiError, NotFoundError
from capi_client.models import App, Job, Organization, Role, Space

M = TypeVar("M")


def _guid(value: str) -> str:
    return quote(str(value), safe="")


def _not_found(what: str, name: str, where: str = "") -> NotFoundError:
    detail = f"{what} '{name}' not found{where}"
    return NotFoundError(404, 10010, "CF-ResourceNotFound", detail)


class SetupCalls:
    """Mixed into PackagesClient, which provides the plumbing below."""

    def _json(self, method: str, path_or_url: str | httpx.URL, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _send(self, method: str, path_or_url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    def get_job(self, guid: str) -> Job:
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------

    def _iter(self, path: str, params: Mapping[str, str], model: Callable[[Mapping[str, Any]], M]) -> Iterator[M]:
        """Every resource of a v3 list, following `pagination.next.href` verbatim as the cf CLI does."""
        page = self._json("GET", path, params={k: v for k, v in params.items() if v})
        while True:
            for item in page.get("resources") or ():
                yield model(item)
            next_url = ((page.get("pagination") or {}).get("next") or {}).get("href")
            if not next_url:
                return
            page = self._json("GET", next_url)

    def _start_delete(self, path: str) -> Job:
        """Start a delete (202) and return its job, as fetched right after."""
        response = self._send("DELETE", path)
        location = response.headers.get("location")
        if not location:
            raise CapiError(response.status_code, 0, "NoJobLocation", "the delete answer has no Location")
        # Take the guid from `…/v3/jobs/<guid>` and ask our own API: the Location names the
        # server's external address, which may not be the one this client talks to.
        return self.get_job(httpx.URL(location).path.rstrip("/").rsplit("/", 1)[-1])

    # -- organizations ------------------------------------------------------------------------

    def create_organization(self, name: str) -> Organization:
        return Organization.from_json(self._json("POST", "/v3/organizations", json={"name": name}))

    def iter_organizations(self, names: list[str] | None = None) -> Iterator[Organization]:
        return self._iter("/v3/organizations", {"names": ",".join(names or ())}, Organization.from_json)

    def get_organization(self, guid: str) -> Organization:
        return Organization.from_json(self._json("GET", f"/v3/organizations/{_guid(guid)}"))

    def find_organization(self, name: str) -> Organization:
        """The organization named `name` (NotFoundError if it does not exist or is invisible)."""
        for org in self.iter_organizations(names=[name]):
            return org
        raise _not_found("Organization", name)

    def delete_organization(self, guid: str) -> Job:
        return self._start_delete(f"/v3/organizations/{_guid(guid)}")

    # -- spaces -----------------------------------------------------------------------------------

    def create_space(self, name: str, org_guid: str) -> Space:
        body = {"name": name, "relationships": {"organization": {"data": {"guid": org_guid}}}}
        return Space.from_json(self._json("POST", "/v3/spaces", json=body))

    def iter_spaces(self, org_guid: str | None = None, names: list[str] | None = None) -> Iterator[Space]:
        params = {"organization_guids": org_guid or "", "names": ",".join(names or ())}
        return self._iter("/v3/spaces", params, Space.from_json)

    def get_space(self, guid: str) -> Space:
        return Space.from_json(self._json("GET", f"/v3/spaces/{_guid(guid)}"))

    def find_space(self, name: str, org_guid: str) -> Space:
        for space in self.iter_spaces(org_guid, names=[name]):
            return space
        raise _not_found("Space", name)

    def delete_space(self, guid: str) -> Job:
        return self._start_delete(f"/v3/spaces/{_guid(guid)}")

    # -- apps -------------------------------------------------------------------------------------

    def create_app(self, name: str, space_guid: str, lifecycle: str = "buildpack") -> App:
        body: dict[str, Any] = {
            "name": name,
            "relationships": {"space": {"data": {"guid": space_guid}}},
        }
        # CC defaults to buildpack, so only another lifecycle needs saying.
        if lifecycle != "buildpack":
            body["lifecycle"] = {"type": lifecycle, "data": {}}
        return App.from_json(self._json("POST", "/v3/apps", json=body))

    def iter_apps(self, space_guid: str | None = None, names: list[str] | None = None) -> Iterator[App]:
        params = {"space_guids": space_guid or "", "names": ",".join(names or ())}
        return self._iter("/v3/apps", params, App.from_json)

    def get_app(self, guid: str) -> App:
        return App.from_json(self._json("GET", f"/v3/apps/{_guid(guid)}"))

    def find_app(self, name: str, space_guid: str) -> App:
        """The app named `name` in one space (NotFoundError if there is none)."""
        for app in self.iter_apps(space_guid, names=[name]):
            return app
        raise _not_found("App", name)

    def delete_app(self, guid: str) -> Job:
        return self._start_delete(f"/v3/apps/{_guid(guid)}")

    # -- roles ------------------------------------------------------------------------------------

    def create_role(
        self,
        type: str,
        user_guid: str | None = None,
        org_guid: str | None = None,
        space_guid: str | None = None,
        *,
        username: str | None = None,
        origin: str | None = None,
    ) -> Role:
        """Give a user a role: `space_*` roles need `space_guid`, `organization_*` `org_guid`.

        Name the user by `user_guid`, or by `username` (with `origin` if the API has several).
        """
        if (org_guid is None) == (space_guid is None):
            raise ValueError("give exactly one of org_guid and space_guid")
        if (user_guid is None) == (username is None):
            raise ValueError("give exactly one of user_guid and username")
        user: dict[str, str] = {"guid": user_guid} if user_guid is not None else {"username": str(username)}
        if origin is not None:
            user["origin"] = origin
        relationships: dict[str, Any] = {"user": {"data": user}}
        if space_guid is not None:
            relationships["space"] = {"data": {"guid": space_guid}}
        else:
            relationships["organization"] = {"data": {"guid": org_guid}}
        body = {"type": type, "relationships": relationships}
        return Role.from_json(self._json("POST", "/v3/roles", json=body))

    def iter_roles(
        self,
        *,
        types: list[str] | None = None,
        user_guids: list[str] | None = None,
        org_guids: list[str] | None = None,
        space_guids: list[str] | None = None,
    ) -> Iterator[Role]:
        params = {
            "types": ",".join(types or ()),
            "user_guids": ",".join(user_guids or ()),
            "organization_guids": ",".join(org_guids or ()),
            "space_guids": ",".join(space_guids or ()),
        }
        return self._iter("/v3/roles", params, Role.from_json)

    def delete_role(self, guid: str) -> Job:
        return self._start_delete(f"/v3/roles/{_guid(guid)}")
