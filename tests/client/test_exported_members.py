"""The client's public surface is exactly `capi_client.__all__`, and it needs only httpx, pathspec, tenacity."""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

import capi_client

EXPECTED = {
    "App",
    "AppPackageFilters",
    "AuditEvent",
    "AuditEventFilters",
    "AuditEventList",
    "BadRequestError",
    "CapiError",
    "CfIgnore",
    "DEFAULT_IGNORES",
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
}


def test_all_public_names_are_exported() -> None:
    public = {
        name
        for name, value in vars(capi_client).items()
        if not isinstance(value, types.ModuleType) and (not name.startswith("_") or name == "__version__")
    }
    assert set(capi_client.__all__) == public
    assert len(capi_client.__all__) == len(set(capi_client.__all__))


def test_the_public_surface_changes_only_on_purpose() -> None:
    assert set(capi_client.__all__) == EXPECTED


def test_every_export_resolves() -> None:
    for name in capi_client.__all__:
        assert getattr(capi_client, name) is not None


def test_the_client_imports_only_the_stdlib_httpx_pathspec_tenacity_and_isal() -> None:
    package_dir = Path(capi_client.__file__).parent
    allowed = set(sys.stdlib_module_names) | {"httpx", "pathspec", "tenacity", "isal", "capi_client"}
    for source in package_dir.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert roots <= allowed, f"{source.name} imports {roots - allowed}"


def test_client_and_cli_commands_never_load_the_service() -> None:
    code = (
        "import sys, capi_client, capi_cli.client_commands; "
        "sys.exit(any(m.split('.')[0] == 'capi_packages' for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
