"""Where package zips, the resource pool and staged uploads live: a directory or an S3 bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from capi_packages.blobstore.base import Blobstore

if TYPE_CHECKING:
    from capi_packages.settings import Settings


def make_blobstore(settings: Settings) -> Blobstore:
    """The store `settings.blobstore_type` names: files under the data dir, or an S3 bucket."""
    if settings.blobstore_type == "s3":
        from capi_packages.blobstore.s3 import S3Blobstore

        assert settings.s3_bucket is not None  # the settings validator checks it
        return S3Blobstore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            prefix=settings.s3_prefix,
            scratch_dir=settings.data_dir / "tmp",
            addressing_style=settings.s3_addressing_style,
        )
    from capi_packages.blobstore.local import LocalBlobstore

    return LocalBlobstore(settings.blobstore_dir)
