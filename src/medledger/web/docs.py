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

# The pages may load nothing but this site's own files (ReDoc would otherwise fetch its logo
# from a CDN): the browser refuses anything else before it reaches the network.
LOCAL_ONLY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'; "
    "font-src 'self' data:"
)

SWAGGER_JS = "/vendor/swagger-ui-dist/swagger-ui-bundle.js"
SWAGGER_CSS = "/vendor/swagger-ui-dist/swagger-ui.css"
REDOC_JS = "/vendor/redoc/bundles/redoc.standalone.js"
FAVICON = "/static/favicon.svg"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, from local files."""
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} · API",
        swagger_js_url=SWAGGER_JS,
        swagger_css_url=SWAGGER_CSS,
        swagger_favicon_url=FAVICON,
    )
    page.headers["Content-Security-Policy"] = LOCAL_ONLY
    return page


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over ``/openapi.json``, from local files (no web fonts)."""
    page = get_redoc_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} · API",
        redoc_js_url=REDOC_JS,
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = LOCAL_ONLY
    return page
