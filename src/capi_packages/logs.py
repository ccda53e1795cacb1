"""Logging for serve and worker: plain text lines, or one JSON object per line (CAPI_LOG_FORMAT=json).

Every line carries the request's X-VCAP-Request-ID. Tokens, passwords and the signature parts of
signed URLs are masked in whatever a line says, in either format.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from capi_packages.http.request_id import RequestIdFilter
from capi_packages.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Bearer credentials, and query or form values whose names say they are secret.
_SECRETS = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"
    r"|((?:signature|x-amz-signature|x-amz-credential|x-amz-security-token|access_token|refresh_token|"
    r"password|client_secret|token)=)[^&\s\"']+"
)


def mask_secrets(text: str) -> str:
    return _SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


class _MaskingText(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


class _MaskingJson(JsonFormatter):
    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        for key, value in log_data.items():
            if isinstance(value, str):
                log_data[key] = mask_secrets(value)
        log_data.pop("color_message", None)  # uvicorn's terminal colours
        if log_data.get("vcap_request_id") == "-":
            log_data["vcap_request_id"] = None
        return log_data


def json_formatter() -> logging.Formatter:
    return _MaskingJson(
        "%(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"levelname": "level", "name": "logger", "request_id": "vcap_request_id"},
        timestamp=True,
    )


def configure_logging(settings: Settings) -> None:
    """The root logger's one handler (stderr), in the format CAPI_LOG_FORMAT asks for."""
    fmt = settings.log_format
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(json_formatter() if fmt == "json" else _MaskingText(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
