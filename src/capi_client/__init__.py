"""Python client for the Cloud Foundry v3 Packages API (needs httpx, pathspec and tenacity)."""

from capi_client.archive import FileChangedError, LocalFile
from capi_client.auth import login, read_cf_config, refresh, token_endpoint, token_expiry
from capi_client.cfignore import DEFAULT_IGNORES, CfIgnore
from capi_client.client import PackagesClient, tls_verify
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
from capi_client.events import AuditEvent, AuditEventFilters, AuditEventList
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
from capi_client.push import (
    Matcher,
    PushResult,
    PushSummary,
    ResourcePoolMatcher,
    collect_files,
    push,
    push_directory,
    write_zip,
)
from capi_client.transfer import MultipartUpload, ProgressCallback

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_IGNORES",
    "App",
    "AppPackageFilters",
    "AuditEvent",
    "AuditEventFilters",
    "AuditEventList",
    "BadRequestError",
    "CapiError",
    "CfIgnore",
    "Entry",
    "EntryChange",
    "EntryList",
    "FileChangedError",
    "Job",
    "JobFailedError",
    "LocalFile",
    "Matcher",
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
    "PushResult",
    "PushSummary",
    "Resource",
    "ResourcePoolMatcher",
    "Role",
    "ServerError",
    "Space",
    "Tokens",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "__version__",
    "collect_files",
    "login",
    "push",
    "push_directory",
    "read_cf_config",
    "refresh",
    "tls_verify",
    "token_endpoint",
    "token_expiry",
    "write_zip",
]
