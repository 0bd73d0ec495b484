"""The ASGI application: REST API, EPCIS binding, HTML UI and static files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

import medledger
from medledger.core.admission import Admission, pool_capacity, pool_timeout
from medledger.core.config import Settings, get_settings
from medledger.core.db import engine_from_settings, make_session_factory
from medledger.core.deps import commit_in_endpoint_thread
from medledger.core.problems import install_problem_handlers, install_request_guard
from medledger.web.errors import install_html_error_pages


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the application for ``settings`` (process settings by default)."""
    from medledger.models import load_all_models

    # Every table and its partner-visibility rule registered before the first request.
    load_all_models()
    settings = settings or get_settings()
    engine = engine or engine_from_settings(settings)
    app = FastAPI(
        title="MedLedger",
        version=medledger.__version__,
        description=(
            "The shared ledger of the medical-device supply chain: master data, GS1 identifiers, "
            "EPCIS 2.0 traceability, audit trail. Errors are RFC 9457 problem+json with a stable "
            "`code`."
        ),
        # /docs and /redoc are served by web.docs from local files (no CDN).
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    from medledger.trace.epcis import parallel

    parallel.configure(settings.capture_workers)
    app.state.engine = engine
    if settings.trace_preload:

        def preload_trace_snapshots() -> None:
            """Trace snapshots load in a background thread; no request waits for them."""
            from medledger.trace.snapshot import SNAPSHOTS

            root = settings.trace_snapshot_dir
            if root is not None and str(root) in ("", "."):
                root = None  # set empty: not shared
            if root is not None and not root.is_absolute():
                root = Path.cwd() / root
            SNAPSHOTS.start_background(engine, files_root=root)

        app.router.on_startup.append(preload_trace_snapshots)
    app.state.session_factory = make_session_factory(engine)
    app.state.admission = Admission(
        pool_capacity(engine), pool_timeout(engine, settings.db_pool_timeout_seconds)
    )
    from medledger.parties.auth import authenticate_request

    app.state.authenticator = authenticate_request
    install_problem_handlers(app)
    install_html_error_pages(app)
    install_request_guard(app, settings)
    from medledger.core.problems import respond_with_problem
    from medledger.trace.binding import EpcisBinding

    # Outside the request guard: its problems (413, malformed JSON) get the binding's headers.
    app.add_middleware(EpcisBinding, respond=respond_with_problem)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness: answered on the event loop without the database, even under overload."""
        return {"status": "ok"}

    from medledger.catalog.api import router as catalog_router
    from medledger.compliance.api import router as audit_router
    from medledger.parties.api import router as parties_router
    from medledger.web.views import router as web_router

    app.include_router(parties_router)
    app.include_router(catalog_router)
    app.include_router(audit_router)
    for router, dependencies in _capability_routers():
        app.include_router(router, dependencies=dependencies)
    app.include_router(web_router)
    commit_in_endpoint_thread(app)

    static_dir = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    vendor_dir = settings.vendor_dir
    if not vendor_dir.is_absolute():
        vendor_dir = Path.cwd() / vendor_dir
    if vendor_dir.is_dir():
        app.mount("/vendor", StaticFiles(directory=vendor_dir), name="vendor")
    return app


def _capability_routers() -> list[tuple[APIRouter, list[Any]]]:
    """Routers of the capability packages, each with the dependencies it is mounted with."""
    from medledger.analytics.api import router as analytics_router
    from medledger.analytics.transport_api import router as transport_router
    from medledger.core.deps import authenticated
    from medledger.identifiers.api import router as gs1_router
    from medledger.integration.api import router as integration_router
    from medledger.integration.imports.api import router as imports_router
    from medledger.inventory.api import router as inventory_router
    from medledger.orders.api import router as orders_router
    from medledger.orders.planning_api import router as planning_router
    from medledger.production.api import router as production_router
    from medledger.purchasing.api import router as purchasing_router
    from medledger.quality.api import router as quality_router
    from medledger.quality.api import signatures_router
    from medledger.quality.inspection_api import router as inspection_router
    from medledger.recall.api import router as recall_router
    from medledger.trace.api import router as epcis_router
    from medledger.trace.api import trace_router

    return [
        (gs1_router, [Depends(authenticated)]),
        (epcis_router, []),
        (trace_router, [Depends(authenticated)]),
        (integration_router, [Depends(authenticated)]),
        (imports_router, [Depends(authenticated)]),
        (inventory_router, [Depends(authenticated)]),
        (purchasing_router, [Depends(authenticated)]),
        (quality_router, [Depends(authenticated)]),
        (inspection_router, [Depends(authenticated)]),
        (signatures_router, [Depends(authenticated)]),
        (orders_router, [Depends(authenticated)]),
        (recall_router, [Depends(authenticated)]),
        (planning_router, [Depends(authenticated)]),
        (production_router, [Depends(authenticated)]),
        (analytics_router, [Depends(authenticated)]),
        (transport_router, [Depends(authenticated)]),
    ]
