"""The API documentation pages, served from local files: Swagger UI at ``/docs`` and ReDoc at
``/redoc``.

FastAPI's defaults load both from a CDN, so offline (or behind a strict firewall) the pages
stay blank. The npm packages ``swagger-ui-dist`` and ``redoc`` (package.json) are installed by
``make install`` and served under ``/vendor`` like htmx; nothing is fetched at run time, and
ReDoc is told not to load Google Fonts.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

SWAGGER_JS = "/vendor/swagger-ui-dist/swagger-ui-bundle.js"
SWAGGER_CSS = "/vendor/swagger-ui-dist/swagger-ui.css"
REDOC_JS = "/vendor/redoc/bundles/redoc.standalone.js"
FAVICON = "/static/favicon.svg"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, from local files."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} · API",
        swagger_js_url=SWAGGER_JS,
        swagger_css_url=SWAGGER_CSS,
        swagger_favicon_url=FAVICON,
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over ``/openapi.json``, from local files (no web fonts)."""
    return get_redoc_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} · API",
        redoc_js_url=REDOC_JS,
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    )
