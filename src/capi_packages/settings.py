"""Settings: every knob is a CAPI_* environment variable, or a key of an optional TOML/JSON config file."""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

GiB = 1024**3


class Settings(BaseSettings):
    """Validated once at start-up and passed down; nothing reads the environment after this."""

    model_config = SettingsConfigDict(env_prefix="CAPI_", extra="forbid")

    host: str = Field("127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(8080, description="Port `serve` listens on.")
    data_dir: Path = Field(Path("./var"), description="Holds the SQLite database, blobstore and signing key.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/capi.db. PostgreSQL: postgresql+psycopg://…"
    )
    database_pool_size: int | None = Field(
        None,
        ge=1,
        description="Database connections each process keeps open; default 40 (one per request thread; on"
        " PostgreSQL mind max_connections across processes).",
    )
    database_max_overflow: int = Field(
        20, ge=0, description="Connections a process may open beyond the pool under load (closed when idle)."
    )
    database_pool_timeout_seconds: float = Field(
        30, gt=0, description="How long a request waits for a free database connection before it fails."
    )
    external_url: str | None = Field(
        None, description="Base URL used in links (e.g. https://api.example.org); default http://<host>:<port>."
    )
    log_level: str = Field("info", description="Python logging level.")
    log_format: str = Field(
        "text", description="`text`, `json` (one object per line) or `auto` (text on a terminal, else json)."
    )
    access_log: bool = Field(True, description="Log one line per request (method, route, status, duration, user).")

    # The HTTP edge: slow or greedy clients are cut off before they can tie up the server.
    http_header_timeout_seconds: float = Field(
        10, gt=0, description="A request's line and headers must arrive within this time of its first byte."
    )
    # nginx's default: longer than clients keep idle connections (httpx 5 s, Go 90 s is the exception),
    # so the server seldom closes a connection a client is just reusing.
    http_keep_alive_timeout_seconds: int = Field(75, ge=1, description="Idle keep-alive connections close after this.")
    http_body_timeout_seconds: float = Field(
        60, gt=0, description="A request body that sends no byte for this long (a stalled upload) is cut off."
    )
    http_max_connections: int = Field(
        1000, ge=1, description="Open connections beyond this get 503 at once (also capped below the fd limit)."
    )
    http_max_header_bytes: int = Field(
        65536, ge=1024, description="Request line plus headers beyond this get 431 in CC's envelope."
    )
    shutdown_timeout_seconds: int = Field(
        30, ge=0, description="On SIGTERM, in-flight requests get this long to finish before they are cut."
    )

    # Tokens: the service issues its own RS256 tokens; an external UAA can be trusted too.
    uaa_url: str | None = Field(None, description="External UAA base URL shown in root links; off when unset.")
    jwks_url: str | None = Field(None, description="JWKS URL of an external UAA whose tokens are accepted.")
    jwt_public_key_file: Path | None = Field(None, description="PEM public key of an external token issuer.")
    jwt_issuer: str | None = Field(None, description="Expected `iss` of external tokens (checked when set).")
    jwt_audience: str = Field("cloud_controller", description="Audience every token must carry.")
    local_issuer_enabled: bool = Field(True, description="Accept (and issue) tokens signed with the data-dir key.")
    token_ttl_seconds: int = Field(3600, ge=1, description="Default lifetime of tokens this service issues.")

    # Packages and bits (CC names in comments).
    max_package_size: int = Field(GiB, ge=1, description="packages.max_package_size: uncompressed bytes.")
    max_package_entries: int = Field(200_000, ge=1, description="Entries allowed in one package zip.")
    max_upload_size: int = Field(
        2 * GiB, ge=1, description="Request body limit for uploads (nginx app_bits_max_body_size)."
    )
    max_valid_packages_stored: int = Field(5, ge=1, description="packages.max_valid_packages_stored.")
    resource_pool_minimum_size: int = Field(65536, ge=0, description="resource_pool.minimum_size.")
    resource_pool_maximum_size: int = Field(536_870_912, ge=0, description="resource_pool.maximum_size.")
    feature_app_bits_upload: bool = Field(True, description="Feature flag app_bits_upload.")
    feature_app_bits_upload_message: str | None = Field(None, description="Custom text when app_bits_upload is off.")
    feature_resource_matching: bool = Field(True, description="Feature flag resource_matching.")
    download_mode: str = Field("redirect", description="`redirect` (302 to a signed URL) or `stream` (200).")
    signed_url_ttl_seconds: int = Field(300, ge=1, description="Lifetime of signed download URLs.")
    links_upload_method: bool = Field(False, description="Add CC's `method: POST` to links.upload.")
    max_labels_per_resource: int = Field(50, ge=0, description="max_labels_per_resource.")
    max_annotations_per_resource: int = Field(200, ge=0, description="max_annotations_per_resource.")
    max_total_results: int | None = Field(None, description="renderer.max_total_results (page * per_page).")
    job_cutoff_age_days: int = Field(90, ge=1, description="pollable_jobs.cutoff_age_in_days.")
    job_timeout_seconds: int = Field(14400, ge=1, description="jobs.global.timeout_in_seconds.")
    audit_events_cutoff_age_days: int = Field(
        31, ge=1, description="audit_events.cutoff_age_in_days: older audit events are pruned."
    )
    worker_enabled: bool = Field(True, description="Run the job worker inside `serve`.")
    worker_poll_seconds: float = Field(0.5, gt=0, description="Idle poll interval of the job worker.")
    worker_lease_seconds: float = Field(
        60, gt=0, description="A running job whose worker has not heartbeaten for this long is re-run."
    )
    worker_shutdown_grace_seconds: float = Field(
        10, ge=0, description="On SIGTERM a running job gets this long to finish, then is handed back to the queue."
    )
    staging_max_age_seconds: int = Field(
        3600, ge=1, description="Staged upload files untouched this long and owned by no job are removed."
    )

    console_enabled: bool = Field(True, description="Serve the web console at /console.")

    # Operations: metrics and logs.
    metrics_auth: str = Field(
        "auto",
        description="`open`, `token`, or `auto`: open when `host` is a loopback address, else a token is needed.",
    )
    metrics_token: str | None = Field(
        None, repr=False, description="A bearer token Prometheus sends for the metrics (besides admin tokens)."
    )
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535, description="`worker` serves its own /metrics on this port (on `host`); off when unset."
    )

    # Blobstore: files under <data_dir>/blobstore, or an S3 (or S3-compatible) bucket.
    blobstore_type: str = Field("local", description="`local` (files under the data dir) or `s3`.")
    s3_bucket: str | None = Field(
        None, description="Bucket holding packages and the resource pool (s3 only; required)."
    )
    s3_endpoint_url: str | None = Field(
        None, description="Endpoint of an S3-compatible store (MinIO, Ceph, …); default AWS for the region."
    )
    s3_region: str | None = Field(None, description="Region of the bucket; default from the AWS environment/config.")
    s3_access_key_id: str | None = Field(None, description="Access key; default: boto3's credential chain.")
    s3_secret_access_key: str | None = Field(None, repr=False, description="Secret key paired with s3_access_key_id.")
    s3_prefix: str = Field("", description="Key prefix inside the bucket, e.g. `capi/` to share a bucket.")
    s3_addressing_style: str = Field(
        "auto", description="`auto`, `path` (often needed by MinIO) or `virtual` bucket addressing."
    )

    @field_validator("download_mode")
    @classmethod
    def _known_download_mode(cls, v: str) -> str:
        if v not in ("redirect", "stream"):
            raise ValueError("download_mode must be 'redirect' or 'stream'")
        return v

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, v: str) -> str:
        if v not in ("text", "json", "auto"):
            raise ValueError("log_format must be 'text', 'json' or 'auto'")
        return v

    @field_validator("metrics_auth")
    @classmethod
    def _known_metrics_auth(cls, v: str) -> str:
        if v not in ("auto", "open", "token"):
            raise ValueError("metrics_auth must be 'auto', 'open' or 'token'")
        return v

    @field_validator("blobstore_type")
    @classmethod
    def _known_blobstore_type(cls, v: str) -> str:
        if v not in ("local", "s3"):
            raise ValueError("blobstore_type must be 'local' or 's3'")
        return v

    @field_validator("s3_addressing_style")
    @classmethod
    def _known_addressing_style(cls, v: str) -> str:
        if v not in ("auto", "path", "virtual"):
            raise ValueError("s3_addressing_style must be 'auto', 'path' or 'virtual'")
        return v

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.blobstore_type == "s3" and not self.s3_bucket:
            raise ValueError("s3_bucket is required when blobstore_type is 's3'")
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'capi.db').resolve()}"

    @property
    def base_url(self) -> str:
        if self.external_url:
            return self.external_url.rstrip("/")
        # A wildcard bind is reachable on loopback; links must name an address clients can use.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def local_token_issuer(self) -> str:
        """`iss` of the tokens this service issues (UAA's form: <its URL>/oauth/token)."""
        return f"{self.base_url}/oauth/token"

    @property
    def external_token_issuer(self) -> str | None:
        """`iss` external tokens must carry: CAPI_JWT_ISSUER, else the configured UAA's own issuer."""
        if self.jwt_issuer:
            return self.jwt_issuer
        return f"{self.uaa_url.rstrip('/')}/oauth/token" if self.uaa_url else None

    @property
    def metrics_need_token(self) -> bool:
        if self.metrics_auth != "auto":
            return self.metrics_auth == "token"
        return not _is_loopback(self.host)

    @property
    def blobstore_dir(self) -> Path:
        return self.data_dir / "blobstore"

    @property
    def issuer_file(self) -> Path:
        return self.data_dir / "keys" / "issuer"

    @property
    def signing_key_file(self) -> Path:
        return self.data_dir / "keys" / "jwt-signing-key.pem"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML or JSON file of settings (keys are the names above, without the CAPI_ prefix)."""
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    return {k.lower(): v for k, v in data.items()}


# Read when CAPI_CONFIG_FILE names no other file, so that every command run on a data dir finds
# the settings the server was started with.
DATA_DIR_CONFIG = "config.toml"


def data_dir_config_file(overrides: dict[str, Any]) -> Path:
    data_dir = overrides.get("data_dir") or os.environ.get("CAPI_DATA_DIR") or Settings.model_fields["data_dir"].default
    return Path(data_dir) / DATA_DIR_CONFIG


def load_settings(**overrides: Any) -> Settings:
    """Settings from the config file named by CAPI_CONFIG_FILE (else `<data dir>/config.toml`, if
    there is one), then CAPI_* variables, then overrides."""
    values: dict[str, Any] = {}
    config_file = os.environ.get("CAPI_CONFIG_FILE")
    if config_file:
        values.update(load_config_file(Path(config_file)))
    elif (in_data_dir := data_dir_config_file(overrides)).is_file():
        values.update(load_config_file(in_data_dir))
    # Environment wins over the file: pydantic-settings reads it when a key is not passed explicitly,
    # so drop file keys the environment also sets.
    for key in list(values):
        if f"CAPI_{key.upper()}" in os.environ:
            del values[key]
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
