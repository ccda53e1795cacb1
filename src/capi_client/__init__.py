"""Python client for the Cloud Foundry v3 Packages API (needs only httpx)."""

from capi_client.auth import login, read_cf_config, refresh, token_endpoint, token_expiry
from capi_client.cfignore import DEFAULT_IGNORES, CfIgnore
from capi_client.client import PackagesClient
from capi_client.entries import Entry, EntryChange, EntryList, PackageDiff
from capi_client.errors import (
    BadRequestError,
    CapiError,
    JobFailedError,
    NotAuthenticatedError,
    NotAuthorizedError,
    NotFoundError,
    PackageFailedError,
    ServerError,
    UnprocessableEntityError,
    WaitTimeoutError,
)
from capi_client.filters import AppPackageFilters, PackageFilters
from capi_client.models import (
    App,
    Job,
    Organization,
    Package,
    PackageList,
    Resource,
    Role,
    Space,
    Tokens,
)
from capi_client.push import LocalFile, collect_files, push_directory, write_zip
from capi_client.transfer import MultipartUpload, ProgressCallback

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_IGNORES",
    "App",
    "AppPackageFilters",
    "BadRequestError",
    "CapiError",
    "CfIgnore",
    "Entry",
    "EntryChange",
    "EntryList",
    "Job",
    "JobFailedError",
    "LocalFile",
    "MultipartUpload",
    "NotAuthenticatedError",
    "NotAuthorizedError",
    "NotFoundError",
    "Organization",
    "Package",
    "PackageDiff",
    "PackageFailedError",
    "PackageFilters",
    "PackageList",
    "PackagesClient",
    "ProgressCallback",
    "Resource",
    "Role",
    "ServerError",
    "Space",
    "Tokens",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "__version__",
    "collect_files",
    "login",
    "push_directory",
    "read_cf_config",
    "refresh",
    "token_endpoint",
    "token_expiry",
    "write_zip",
]
