"""JSON responses labelled as CC labels them: application/json; charset=utf-8."""

from __future__ import annotations

from fastapi.responses import JSONResponse


class CFJSONResponse(JSONResponse):
    media_type = "application/json; charset=utf-8"
