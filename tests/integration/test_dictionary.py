"""The data dictionary: the built-in version and its JSON Schema, a new version drafted,
checked for the partners' import mappings it breaks, approved by another person's electronic
signature, and then enforced on imports and on order intake (API and EDI)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.integration.imports.models import ImportMapping
from tests.builders import gtin, token_headers
from tests.orders.builders import STENT, build_order_world

VECTORS = Path(__file__).parent.parent / "vectors" / "edi"
EANCOM_ORDER = (VECTORS / "pydifact" / "order.edi").read_text()
BASE = "/api/v1/integration/dictionary"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _field(fields: list[dict[str, Any]], key: str) -> dict[str, Any]:
    entity, name = key.split(".")
    return next(f for f in fields if f["entity"] == entity and f["name"] == name)


def test_a_version_is_drafted_checked_approved_and_enforced(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    world = build_order_world(factory)
    admin = token_headers(client, "acme-admin")
    distributor = token_headers(client, "acme-distributor")
    # The built-in version 0 is in force, readable by partners too, and exports as JSON Schema
    active = _ok(client.get(f"{BASE}/active", headers=distributor))
    assert (active["number"], active["status"]) == (0, "approved")
    gtin_field = _field(active["fields"], "product.gtin")
    assert (gtin_field["type"], gtin_field["gs1_ai"], gtin_field["labels"]["zh_Hans"]) == (
        "gtin",
        "01",
        "全球贸易项目代码",
    )
    schema = _ok(client.get(f"{BASE}/versions/0/schema", headers=distributor))
    product = schema["$defs"]["product"]
    assert product["properties"]["gtin"]["x-gs1-ai"] == "01"
    assert {"gtin", "name", "tracking_level", "storage_class"} <= set(product["required"])
    assert schema["$defs"]["order_line"]["properties"]["quantity"]["maximum"] == 10_000_000
    assert schema["$defs"]["lot"]["properties"]["expiry"] == {
        "title": "Expiry date",
        "x-labels": {"en": "Expiry date", "zh_Hans": "失效日期"},
        "x-gs1-ai": "17",
        "type": "string",
        "format": "date",
    }
    # The distributor has a saved mapping for its product feed
    with system_unit_of_work(factory) as session:
        session.add(
            ImportMapping(
                tenant_id=world.net.tenant_id,
                party_id=world.net.distributor_id,
                name="erp",
                entity="products",
                columns={
                    "EAN": "gtin",
                    "Bezeichnung": "name",
                    "Text": "description",
                    "Verfolgung": "tracking_level",
                    "Lagerung": "storage_class",
                },
            )
        )
    # When the hub drafts version 1: no more description, an owner GLN required, short names,
    # and at most 100 per order line
    fields = [f for f in active["fields"] if (f["entity"], f["name"]) != ("product", "description")]
    _field(fields, "product.owner_gln")["rules"]["required"] = True
    _field(fields, "product.name")["rules"]["max_length"] = 12
    _field(fields, "order_line.quantity")["rules"]["max"] = 100
    draft = _ok(
        client.post(
            f"{BASE}/versions",
            json={"effective_from": date.today().isoformat(), "notes": "v1", "fields": fields},
            headers=admin,
        ),
        201,
    )
    assert (draft["number"], draft["status"]) == (1, "draft")
    # a partner may not draft; a malformed definition is refused per field
    assert (
        client.post(
            f"{BASE}/versions", json={"effective_from": "2027-01-01"}, headers=distributor
        ).status_code
        == 403
    )
    bad = client.post(
        f"{BASE}/versions",
        json={
            "effective_from": "2027-01-01",
            "fields": [
                {"entity": "product", "name": "Gtin", "type": "colour", "labels": {"en": "x"}}
            ],
        },
        headers=admin,
    )
    assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [
        ("fields.0.name", "dictionary.definition_invalid"),
        ("fields.0.type", "dictionary.definition_invalid"),
        ("fields.0.labels", "dictionary.definition_invalid"),
    ]
    # Then the change shows whose mappings it breaks, and how
    impact = _ok(client.get(f"{BASE}/versions/1/impact", headers=admin))
    assert impact == [
        {
            "party_id": impact[0]["party_id"],
            "party_name": "acme Distribution",
            "mapping": "erp",
            "entity": "products",
            "problems": [
                {"field": "description", "problem": "removed", "columns": ["Text"]},
                {"field": "owner_gln", "problem": "newly_required", "columns": []},
            ],
        }
    ]
    # Nothing is enforced before approval; its author cannot approve it
    assert _ok(client.get(f"{BASE}/active", headers=admin))["number"] == 0
    own = client.post(
        f"{BASE}/versions/1/approve", json={"password": "correct horse battery"}, headers=admin
    )
    assert own.status_code == 403, own.text
    # Another administrator signs it (a wrong password is refused and kept)
    _ok(
        client.post(
            "/api/v1/users",
            json={
                "username": "acme-admin2",
                "display_name": "Second admin",
                "password": "correct horse battery",
                "role": "admin",
            },
            headers=admin,
        ),
        201,
    )
    approver = token_headers(client, "acme-admin2")
    wrong = client.post(f"{BASE}/versions/1/approve", json={"password": "nope"}, headers=approver)
    assert wrong.status_code in (401, 403, 422), wrong.text
    approved = _ok(
        client.post(
            f"{BASE}/versions/1/approve",
            json={"password": "correct horse battery", "comment": "reviewed with partners"},
            headers=approver,
        )
    )
    assert approved["status"] == "approved" and approved["signature_id"] is not None
    assert _ok(client.get(f"{BASE}/active", headers=distributor))["number"] == 1
    # an approved version does not change
    frozen = client.patch(f"{BASE}/versions/1", json={"notes": "x"}, headers=admin)
    assert (frozen.status_code, frozen.json()["code"]) == (409, "dictionary.not_draft")
    # Imports are checked against it: a long name is rejected with the dictionary's rule
    csv = (
        "gtin,name,tracking_level,storage_class\n"
        f"{gtin(701)},Short,lot,ambient\n"
        f"{gtin(702)},A name far too long,lot,ambient\n"
    )
    run = _ok(
        client.post(
            "/api/v1/imports",
            files={"file": ("p.csv", csv.encode(), "text/csv")},
            data={"entity": "products"},
            headers=admin,
        ),
        201,
    )
    assert (run["accepted_rows"], run["rejected_rows"], run["rule_counts"]) == (
        1,
        1,
        {"dictionary.max_length": 1},
    )
    # and so is order intake, by API …
    hospital = token_headers(client, "acme-hospital")
    order = client.post(
        "/api/v1/orders",
        json={"customer_reference": "PO-DD", "lines": [{"gtin": STENT, "quantity": 150}]},
        headers=hospital,
    )
    assert order.status_code == 422, order.text
    assert [(e["field"], e["code"], e["message"]) for e in order.json()["errors"]] == [
        ("lines.0.quantity", "dictionary.max", "Quantity is at most 100.")
    ]
    assert (
        client.post(
            "/api/v1/orders",
            json={"customer_reference": "PO-DD", "lines": [{"gtin": STENT, "quantity": 100}]},
            headers=hospital,
        ).status_code
        == 201
    )
    # … and by EDI (the sample's 8 per line exceeds a limit of 5 in version 2)
    _field(fields, "order_line.quantity")["rules"]["max"] = 5
    _ok(
        client.post(
            f"{BASE}/versions",
            json={"effective_from": date.today().isoformat(), "fields": fields},
            headers=admin,
        ),
        201,
    )
    _ok(
        client.post(
            f"{BASE}/versions/2/approve",
            json={"password": "correct horse battery"},
            headers=approver,
        )
    )
    result = _ok(
        client.post(
            "/api/v1/orders/import/edi?filename=o.edi",
            content=EANCOM_ORDER.encode(),
            headers={**token_headers(client, "acme-sales"), "Content-Type": "application/edifact"},
        )
    )
    message = result["messages"][0]
    assert message["status"] == "failed"
    assert {e["code"] for e in message["errors"]} == {"dictionary.max"}
    assert [e["field"] for e in message["errors"]] == ["segment 10 QTY", "segment 13 QTY"]


def test_the_dictionary_page_lists_fields_in_the_readers_language(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    from tests.web.browsing import log_in

    build_order_world(factory)
    log_in(client, "acme-distributor")
    page = client.get("/integration/dictionary?entity=lot")
    assert page.status_code == 200, page.text
    assert "Expiry date" in page.text and "Version 0" in page.text
    rows = client.get("/integration/dictionary?entity=lot&format=csv").text.strip().splitlines()
    assert [r.split(",")[:6] for r in rows[1:]] == [
        ["Lot", "gtin", "GTIN", "gtin", "", "01"],
        ["Lot", "lot", "Batch/lot", "string", "", "10"],
        ["Lot", "serial", "Serial number", "string", "", "21"],
        ["Lot", "expiry", "Expiry date", "date", "", "17"],
        ["Lot", "production_date", "Production date", "date", "", "11"],
        ["Lot", "sscc", "SSCC", "sscc", "", "00"],
    ]
    # a reader who chose Chinese sees the Chinese labels
    preferences = client.patch(
        "/api/v1/me/preferences",
        json={"locale": "zh_Hans"},
        headers=token_headers(client, "acme-distributor"),
    )
    assert preferences.status_code == 200, preferences.text
    client.cookies.clear()
    log_in(client, "acme-distributor")
    chinese = client.get("/integration/dictionary?entity=lot&format=csv").text
    assert "批次,expiry,失效日期,date,,17" in chinese


def test_a_version_is_drafted_edited_and_approved_on_the_pages(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    from tests.builders import PASSWORD
    from tests.web.browsing import csrf, field_errors, input_value, log_in

    build_order_world(factory)
    admin = token_headers(client, "acme-admin")
    log_in(client, "acme-admin")
    token = csrf(client, "/integration/dictionary")
    # The dictionary page drafts a new version (a copy of the version in force)
    drafted = client.post(
        "/integration/dictionary/drafts",
        data={"csrf_token": token, "effective_from": "2027-01-01", "notes": "Regulatory class"},
        follow_redirects=False,
    )
    assert (drafted.status_code, drafted.headers["location"]) == (
        303,
        "/integration/dictionary/versions/1",
    )
    page = client.get("/integration/dictionary/versions/1")
    assert page.status_code == 200 and 'data-testid="field-form"' in page.text
    # An enum field without values is refused at the values input; nothing changes
    new_field = {
        "csrf_token": token,
        "original": "",
        "entity": "product",
        "name": "regulatory_class",
        "type": "enum",
        "required": "false",
        "min": "",
        "max": "",
        "max_length": "",
        "pattern": "",
        "values": "",
        "label_en": "Regulatory class",
        "label_zh": "监管类别",
    }
    refused = client.post("/integration/dictionary/versions/1/fields", data=new_field)
    assert refused.status_code == 422
    assert list(field_errors(refused.text)) == ["values"]
    assert input_value(refused.text, "label_zh") == "监管类别"
    before = _ok(client.get(f"{BASE}/versions/1", headers=admin))["fields"]
    assert not any(f["name"] == "regulatory_class" for f in before)
    # With its values it is added
    added = client.post(
        "/integration/dictionary/versions/1/fields",
        data={**new_field, "values": "I, IIa, IIb, III"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    # An existing field is edited in place (the editor starts from what it has)
    editor = client.get("/integration/dictionary/versions/1?field=lot.lot")
    assert input_value(editor.text, "original") == "lot.lot"
    assert input_value(editor.text, "label_en") == "Batch/lot"
    lot = _field(before, "lot.lot")
    edited = client.post(
        "/integration/dictionary/versions/1/fields",
        data={
            **new_field,
            "original": "lot.lot",
            "entity": "lot",
            "name": "lot",
            "type": "string",
            "values": "",
            "max_length": "12",
            "pattern": "[A-Z0-9-]+",
            "label_en": lot["labels"]["en"],
            "label_zh": lot["labels"]["zh_Hans"],
        },
        follow_redirects=False,
    )
    assert edited.status_code == 303
    # and a field is taken out
    removed = client.post(
        "/integration/dictionary/versions/1/fields/remove",
        data={"csrf_token": token, "key": "lot.production_date"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    draft = _ok(client.get(f"{BASE}/versions/1", headers=admin))
    assert _field(draft["fields"], "product.regulatory_class")["rules"] == {
        "values": ["I", "IIa", "IIb", "III"]
    }
    assert _field(draft["fields"], "lot.lot")["rules"] == {
        "max_length": 12,
        "pattern": "[A-Z0-9-]+",
    }
    assert not any(f["entity"] == "lot" and f["name"] == "production_date" for f in draft["fields"])
    assert len(draft["fields"]) == len(before)
    # Its author cannot approve it: the page says why and the version stays a draft
    own = client.post(
        "/integration/dictionary/versions/1/approve",
        data={"csrf_token": token, "password": PASSWORD, "comment": ""},
    )
    assert own.status_code == 403
    assert 'data-testid="approve-form"' in own.text
    assert _ok(client.get(f"{BASE}/versions/1", headers=admin))["status"] == "draft"
    # Another administrator signs it on the page
    _ok(
        client.post(
            "/api/v1/users",
            json={
                "username": "acme-admin2",
                "display_name": "Second admin",
                "password": PASSWORD,
                "role": "admin",
            },
            headers=admin,
        ),
        201,
    )
    client.cookies.clear()
    log_in(client, "acme-admin2")
    signed = client.post(
        "/integration/dictionary/versions/1/approve",
        data={
            "csrf_token": csrf(client, "/integration/dictionary/versions/1"),
            "password": PASSWORD,
            "comment": "reviewed",
        },
        follow_redirects=False,
    )
    assert (signed.status_code, signed.headers["location"]) == (
        303,
        "/integration/dictionary?version=1&saved=1",
    )
    approved = _ok(client.get(f"{BASE}/versions/1", headers=admin))
    assert approved["status"] == "approved" and approved["signature_id"] is not None
    # A partner's user reads the dictionary but cannot draft
    client.cookies.clear()
    log_in(client, "acme-distributor")
    assert client.get("/integration/dictionary/versions/1").status_code == 403


def test_inspection_results_are_checked_against_the_version_in_force(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    from tests.builders import PASSWORD
    from tests.quality.inspection_builders import build_lab, plan

    lab = build_lab(client, factory, "dd")
    plan(client, lab)  # outer diameter 2.9–3.1 mm, three readings
    inspection = _ok(
        client.post(
            "/api/v1/quality/inspections",
            json={"gtin": lab_gtin(), "lot": "D-1", "lab_party_id": lab.lab_id},
            headers=lab.w.qa,
        ),
        201,
    )
    readings = {"results": [{"name": "Outer diameter", "values": [2.95, 3.0, 3.08]}]}
    results = f"/api/v1/quality/inspections/{inspection['id']}/results"
    # Given an approved version whose measured values are at most 3.05
    admin = lab.w.admin
    fields = _ok(client.get(f"{BASE}/active", headers=admin))["fields"]
    _field(fields, "inspection_result.measured_value")["rules"] = {"max": "3.05"}
    _ok(
        client.post(
            f"{BASE}/versions",
            json={"effective_from": date.today().isoformat(), "fields": fields},
            headers=admin,
        ),
        201,
    )
    _ok(
        client.post(
            "/api/v1/users",
            json={
                "username": "dd-admin2",
                "display_name": "Second admin",
                "password": PASSWORD,
                "role": "admin",
            },
            headers=admin,
        ),
        201,
    )
    _ok(
        client.post(
            f"{BASE}/versions/1/approve",
            json={"password": PASSWORD},
            headers=token_headers(client, "dd-admin2"),
        )
    )
    # When the lab enters a reading above the dictionary's maximum (within the plan's limits)
    refused = client.post(results, json=readings, headers=lab.lab)
    # Then it is refused at that reading, with the dictionary's rule, and nothing is recorded
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "inspection.result_invalid"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("results.0.values.2", "dictionary.max")
    ]
    unchanged = _ok(client.get(f"/api/v1/quality/inspections/{inspection['id']}", headers=admin))
    assert (unchanged["state"], unchanged["results"]) == ("open", {})
    # Within the rule, the readings are taken
    readings["results"][0]["values"] = [2.95, 3.0, 3.02]
    taken = _ok(client.post(results, json=readings, headers=lab.lab))
    assert taken["results"]["Outer diameter"]["values"] == [2.95, 3.0, 3.02]


def lab_gtin() -> str:
    from tests.inventory.builders import AMBIENT_GTIN

    return AMBIENT_GTIN


def test_master_data_through_the_api_is_checked_against_the_version_in_force(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    from tests.builders import PASSWORD, build_network, gln

    net = build_network(factory, "md")
    admin = token_headers(client, "md-admin")
    fields = _ok(client.get(f"{BASE}/active", headers=admin))["fields"]
    _field(fields, "product.name")["rules"] = {"required": True, "max_length": 20}
    _field(fields, "party.region")["rules"] = {"required": True, "pattern": "^(EU|CN|US)$"}
    _ok(
        client.post(
            f"{BASE}/versions",
            json={"effective_from": date.today().isoformat(), "fields": fields},
            headers=admin,
        ),
        201,
    )
    body = {
        "username": "md-admin2",
        "display_name": "Second admin",
        "password": PASSWORD,
        "role": "admin",
    }
    _ok(client.post("/api/v1/users", json=body, headers=admin), 201)
    approve = {"password": PASSWORD}
    approver = token_headers(client, "md-admin2")
    _ok(client.post(f"{BASE}/versions/1/approve", json=approve, headers=approver))
    # A product whose name breaks the version's maximum length is refused at that field
    product = {
        "gtin": gtin(71),
        "name": "Central venous catheter kit, 7 Fr",
        "tracking_level": "lot",
        "storage_class": "ambient",
    }
    refused = client.post("/api/v1/products", json=product, headers=admin)
    assert refused.status_code == 422, refused.text
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("name", "dictionary.max_length")
    ]
    listed = _ok(client.get("/api/v1/products", params={"q": gtin(71)}, headers=admin))
    assert listed["items"] == []
    created = _ok(
        client.post("/api/v1/products", json={**product, "name": "CVC kit 7 Fr"}, headers=admin),
        201,
    )
    # and a renamed product too
    renamed = client.patch(
        f"/api/v1/products/{created['id']}", json={"name": "x" * 21}, headers=admin
    )
    assert (renamed.status_code, renamed.json()["errors"][0]["field"]) == (422, "name")
    # A party in a region the version does not list is refused; changing one likewise
    party = {"name": "Far away", "gln": gln(77), "roles": ["distributor"], "country": "BR"}
    refused = client.post("/api/v1/parties", json={**party, "region": "BR"}, headers=admin)
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (
        422,
        "dictionary.pattern",
    )
    moved = client.patch(
        f"/api/v1/parties/{net.distributor_id}", json={"region": "BR"}, headers=admin
    )
    assert (moved.status_code, moved.json()["errors"][0]["field"]) == (422, "region")
    assert _ok(client.post("/api/v1/parties", json={**party, "region": "EU"}, headers=admin), 201)
