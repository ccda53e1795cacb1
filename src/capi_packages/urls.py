"""Absolute links, built from the configured external URL as CC's api_url_builder does.

Outside http/: wire formats (schemas) and jobs build links too, and know nothing of the web layer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UrlBuilder:
    base: str

    def __call__(self, path: str) -> str:
        return f"{self.base}{path}"

    def v3(self, path: str) -> str:
        return f"{self.base}/v3{path}"

    def href(self, path: str) -> dict[str, str]:
        return {"href": self.v3(path)}
