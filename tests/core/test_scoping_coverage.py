"""Every table and every endpoint is scoped: new ones cannot slip through unnoticed."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from medledger.core.db import Base
from medledger.core.scoping import has_party_rule
from medledger.models import load_all_models

# Tables partner users never read directly (the hub's design data, security and audit records).
CLOSED_TO_PARTNERS = {
    "audit_entries",
    "audit_heads",
    "auth_sessions",
    "boms",
    "bom_lines",
    # Partners read outbox messages only through their own deliveries.
    "outbox_messages",
    # Rejected import rows are read through their run.
    "import_rows",
    "signing_failures",
    # Hub-only: quality's plans and lot decisions, inventory's record of NCR holds.
    "inventory_lot_holds",
    "quality_inspection_plans",
    "quality_lot_releases",
    # The tenant's scorecard weights and KPI targets: read through analytics' settings service.
    "analytics_settings",
    # A recall's scope snapshot names every consignee: the hub's only (recall.md).
    "recall_scopes",
    # Transport lanes carry the hub's freight costs; lane choices are the hub's planning.
    "transport_lanes",
    "transport_lane_choices",
}
# Tables without tenant_id: the tenant row itself and the pre-authentication login log.
# api_rate_windows: request counters per API key and window (the key names its tenant).
NOT_TENANT_DATA = {"tenants", "login_attempts", "api_rate_windows"}


def _mapped_classes() -> dict[str, type]:
    load_all_models()
    return {m.class_.__tablename__: m.class_ for m in Base.registry.mappers}


def test_every_tenant_table_has_a_partner_rule_or_is_deliberately_closed() -> None:
    classes = _mapped_classes()
    undecided = []
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_TENANT_DATA:
            continue
        assert "tenant_id" in table.c, f"{table.name} has no tenant_id"
        model = classes[table.name]
        if not has_party_rule(model) and table.name not in CLOSED_TO_PARTNERS:
            undecided.append(table.name)
    assert undecided == []


def test_every_closed_table_really_has_no_rule() -> None:
    classes = _mapped_classes()
    assert [name for name in sorted(CLOSED_TO_PARTNERS) if has_party_rule(classes[name])] == []


PUBLIC = {("POST", "/api/v1/auth/token")}


def test_every_api_and_epcis_endpoint_requires_credentials(
    app: FastAPI, client: TestClient
) -> None:
    checked = 0
    for path, operations in app.openapi()["paths"].items():
        if not (path.startswith("/api/") or path.startswith("/epcis")):
            continue
        for method in operations:
            if (method.upper(), path) in PUBLIC:
                continue
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            response = client.request(method.upper(), concrete, json={})
            assert response.status_code == 401, f"{method} {path}: {response.status_code}"
            assert response.json()["code"] == "authentication_required"
            checked += 1
    assert checked >= 50
