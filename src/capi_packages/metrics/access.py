"""Who may read the metrics: anyone on a loopback bind, else the metrics token or a global reader's token."""

from __future__ import annotations

import hmac

from capi_packages.auth.tokens import TokenVerifier
from capi_packages.errors import NotAuthorized
from capi_packages.settings import Settings


def has_metrics_token(settings: Settings, authorization: str | None) -> bool:
    if not settings.metrics_token or not authorization:
        return False
    scheme, _, credentials = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip(), settings.metrics_token)


def require_metrics_access(settings: Settings, verifier: TokenVerifier | None, authorization: str | None) -> None:
    """Raise NotAuthenticated/InvalidAuthToken (401) or NotAuthorized (403) unless the caller may read."""
    if not settings.metrics_need_token or has_metrics_token(settings, authorization):
        return
    if verifier is None:
        raise NotAuthorized()
    claims = verifier.verify_header(authorization)
    if not claims.can_read_globally:
        raise NotAuthorized()
