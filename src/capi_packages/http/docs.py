"""/docs: Swagger UI served from an installed package, so the page works on a machine without internet.

FastAPI's own page loads Swagger UI from a CDN; the `fastapi-offline` wheel carries the same
assets (Swagger UI 5, which reads OpenAPI 3.1), and they are served from /docs/assets."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS = Path(fastapi_offline.__file__).parent / "static"


def install(app: FastAPI) -> None:
    assets = f"{DOCS_PATH}/assets"
    app.mount(assets, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title}: API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            # No badge fetched from validator.swagger.io: nothing on the page leaves this server.
            swagger_ui_parameters={"validatorUrl": None, "docExpansion": "list", "tryItOutEnabled": False},
        )
