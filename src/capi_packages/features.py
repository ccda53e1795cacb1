"""CC's feature flags that more than one feature reads: `app_bits_upload` and `resource_matching`."""

from __future__ import annotations

from capi_packages.auth.tokens import Claims
from capi_packages.errors import FeatureDisabled
from capi_packages.settings import Settings


def require_app_bits_upload(claims: Claims, settings: Settings) -> None:
    """`app_bits_upload` gates uploads and resource matching; admins may skip it, as in CC."""
    if settings.feature_app_bits_upload or claims.is_admin:
        return
    err = FeatureDisabled("app_bits_upload")
    if settings.feature_app_bits_upload_message:
        err.detail = settings.feature_app_bits_upload_message
    raise err


def resource_matching_enabled(settings: Settings) -> bool:
    """`resource_matching` (not admin-skippable): off, nothing is matched and uploads fill no pool."""
    return settings.feature_resource_matching
