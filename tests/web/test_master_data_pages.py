"""Master-data pages: forms use the API's schemas and services, with the API's messages."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from medledger.catalog.models import BillOfMaterials, MarketAuthorisation, Product
from medledger.compliance.models import AuditEntry
from medledger.core.system import system_unit_of_work
from medledger.parties.models import Party, User
from tests.builders import build_network, gln, gtin, token_headers
from tests.web.browsing import alert, csrf, field_errors, input_value, log_in, nav_keys


def _count(factory: Any, stmt: Any) -> int:
    with system_unit_of_work(factory) as session:
        return int(session.scalar(stmt) or 0)


def _parties(factory: Any) -> int:
    return _count(factory, select(func.count()).select_from(Party))


def _audit_entries(factory: Any) -> int:
    return _count(factory, select(func.count()).select_from(AuditEntry))


PARTY_FORM = {
    "name": "Shanghai Medical Supply",
    "gln": gln(50),
    "roles": ["distributor"],
    "country": "CN",
    "region": "CN",
    "time_zone": "Asia/Shanghai",
    "contacts.0.name": "Li Wei",
    "contacts.0.email": "li.wei@example.cn",
}


def test_admin_creates_a_party_through_the_form(client: TestClient, factory: Any) -> None:
    build_network(factory)
    log_in(client, "acme-admin")
    response = client.post(
        "/parties/new", data={**PARTY_FORM, "csrf_token": csrf(client)}, follow_redirects=False
    )
    assert response.status_code == 303
    party_id = int(response.headers["location"].split("/")[2].split("?")[0])
    with system_unit_of_work(factory) as session:
        party = session.get(Party, party_id)
        assert party is not None
        assert (party.name, party.gln, party.roles, party.country, party.region) == (
            "Shanghai Medical Supply",
            gln(50),
            ["distributor"],
            "CN",
            "CN",
        )
        assert party.contacts == [
            {"name": "Li Wei", "email": "li.wei@example.cn", "phone": "", "function": ""}
        ]
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity_type == "parties", AuditEntry.entity_id == str(party_id)
            )
        ).one()
        assert entry.action == "create"
        assert entry.actor_label == "acme-admin (acme admin)"
    page = client.get(f"/parties/{party_id}")
    assert "Shanghai Medical Supply" in page.text
    assert "Saved." not in page.text


def test_a_bad_gln_shows_the_api_message_keeps_the_input_and_changes_nothing(
    client: TestClient, factory: Any
) -> None:
    build_network(factory)
    payload = {**PARTY_FORM, "gln": "4098760000001"}
    api = client.post(
        "/api/v1/parties",
        headers=token_headers(client, "acme-admin"),
        json={
            "name": payload["name"],
            "gln": payload["gln"],
            "roles": payload["roles"],
            "country": "CN",
            "region": "CN",
        },
    ).json()
    log_in(client, "acme-admin")
    parties, entries = _parties(factory), _audit_entries(factory)
    response = client.post("/parties/new", data={**payload, "csrf_token": csrf(client)})
    assert response.status_code == 422
    assert field_errors(response.text) == {"gln": [api["errors"][0]["message"]]}
    assert (
        api["errors"][0]["message"] == "The check digit of GLN 4098760000001 is wrong: expected 8."
    )
    # One field error: shown once, at its field, with no summary on top.
    assert 'role="alert"' not in response.text
    assert response.text.count(api["errors"][0]["message"]) == 1
    assert input_value(response.text, "gln") == "4098760000001"
    assert input_value(response.text, "contacts.0.email") == "li.wei@example.cn"
    assert 'value="distributor" checked' in response.text
    assert (_parties(factory), _audit_entries(factory)) == (parties, entries)


def test_missing_fields_say_what_the_api_says(client: TestClient, factory: Any) -> None:
    build_network(factory)
    log_in(client, "acme-admin")
    response = client.post("/parties/new", data={"csrf_token": csrf(client), "name": "X"})
    assert response.status_code == 422
    assert field_errors(response.text) == {
        "gln": ["This field is required."],
        "roles": ["Give at least 1 item(s)."],
        "country": ["This field is required."],
        "region": ["This field is required."],
    }
    # Several field errors: a summary on top links to each field.
    assert alert(response.text) == ("validation_failed", "Please correct 4 fields.")
    assert re.findall(r'data-field="([^"]+)"', response.text) == [
        "gln",
        "roles",
        "country",
        "region",
    ]


def test_a_refused_service_rule_is_shown_and_rolled_back(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    log_in(client, "acme-admin")
    token = csrf(client)
    parties, entries = _parties(factory), _audit_entries(factory)
    # The GLN of an existing party: the service refuses with 409.
    response = client.post("/parties/new", data={**PARTY_FORM, "gln": gln(2), "csrf_token": token})
    assert response.status_code == 409
    assert field_errors(response.text) == {
        "gln": [f"GLN {gln(2)} is already used by another party."]
    }
    assert 'role="alert"' not in response.text
    assert response.text.count(f"GLN {gln(2)} is already used by another party.") == 1
    assert (_parties(factory), _audit_entries(factory)) == (parties, entries)
    # The edit form of another party is refused the same way, and the party is unchanged.
    response = client.post(
        f"/parties/{network.supplier_id}",
        data={
            "csrf_token": token,
            "name": "Renamed",
            "gln": gln(2),
            "roles": ["supplier"],
            "country": "US",
            "region": "US",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 409
    assert input_value(response.text, "name") == "Renamed"
    with system_unit_of_work(factory) as session:
        party = session.get(Party, network.supplier_id)
        assert party is not None and party.name == "acme Components"
    assert _audit_entries(factory) == entries


def test_the_form_speaks_the_users_language(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    with system_unit_of_work(factory) as session:
        user = session.get(User, network.users["admin"])
        assert user is not None
        user.locale = "zh_Hans"
    log_in(client, "acme-admin")
    response = client.post(
        "/parties/new", data={**PARTY_FORM, "gln": "4098760000001", "csrf_token": csrf(client)}
    )
    assert field_errors(response.text) == {"gln": ["GLN 4098760000001 的校验位错误：应为 8。"]}
    assert response.text.count("GLN 4098760000001 的校验位错误：应为 8。") == 1
    assert nav_keys(response.text)[:3] == ["parties", "sites", "locations"]
    assert ">参与方</a>" in response.text


def test_deactivation_keeps_its_reason_in_the_audit_trail(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    log_in(client, "acme-purchasing")
    response = client.post(
        f"/parties/{network.supplier_id}/deactivate",
        data={"csrf_token": csrf(client), "reason": "Supplier closed"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with system_unit_of_work(factory) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "deactivate")).one()
        assert (entry.entity_id, entry.reason, entry.old_values, entry.new_values) == (
            str(network.supplier_id),
            "Supplier closed",
            {"active": True},
            {"active": False},
        )


def test_the_hub_cannot_be_deactivated(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    log_in(client, "acme-admin")
    response = client.post(
        f"/parties/{network.hub_id}/deactivate", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 409
    assert alert(response.text) == ("party.is_hub", "The hub's own party cannot be deactivated.")


def test_partner_sees_only_its_party_and_gets_404_elsewhere(
    client: TestClient, factory: Any
) -> None:
    network = build_network(factory)
    log_in(client, "acme-supplier")
    page = client.get("/parties")
    assert f'href="/parties/{network.supplier_id}"' in page.text
    assert f'href="/parties/{network.hub_id}"' not in page.text
    assert f'href="/parties/{network.distributor_id}"' not in page.text
    response = client.get(f"/parties/{network.distributor_id}")
    assert response.status_code == 404
    assert alert(response.text)[0] == "not_found"
    assert client.get(f"/users/{network.users['admin']}").status_code == 404


def test_a_role_without_write_permission_gets_no_form(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    log_in(client, "acme-planner")
    page = client.get(f"/parties/{network.supplier_id}")
    assert page.status_code == 200
    assert 'action="/parties/' not in page.text
    response = client.get("/parties/new")
    assert response.status_code == 403
    assert alert(response.text) == (
        "permission_denied",
        "Your role may not do this (parties:write).",
    )


def test_list_filters_page_and_answer_htmx_with_the_results_only(
    client: TestClient, factory: Any
) -> None:
    build_network(factory)
    log_in(client, "acme-admin")
    page = client.get("/parties?region=CN")
    assert "acme Distribution" in page.text and "acme Components" not in page.text
    fragment = client.get("/parties?q=Comp", headers={"HX-Request": "true", "HX-Target": "results"})
    assert fragment.text.lstrip().startswith('<div id="results" data-total="1">')
    assert "<html" not in fragment.text
    assert "acme Components" in fragment.text and "acme Distribution" not in fragment.text
    assert '<strong class="count" data-testid="list-count">1 party</strong>' in fragment.text


def test_sites_and_locations_through_their_forms(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    log_in(client, "acme-warehouse")
    token = csrf(client)
    response = client.post(
        "/sites/new",
        data={
            "csrf_token": token,
            "party_id": str(network.hub_id),
            "name": "Plant Suzhou",
            "gln": gln(60),
            "country": "CN",
            "time_zone": "Asia/Shanghai",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    site_id = int(response.headers["location"].split("/")[2].split("?")[0])
    response = client.post(
        "/locations/new",
        data={
            "csrf_token": token,
            "site_id": str(site_id),
            "code": "COLD-1",
            "name": "Cold room",
            "storage_class": "chilled_2_8",
            "zone_purpose": "released",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    again = client.post(
        "/locations/new",
        data={
            "csrf_token": token,
            "site_id": str(site_id),
            "code": "COLD-1",
            "name": "Twin",
            "storage_class": "chilled_2_8",
            "zone_purpose": "released",
        },
    )
    assert again.status_code == 409
    assert field_errors(again.text) == {"code": ["Location COLD-1 already exists at this site."]}
    page = client.get(f"/sites/{site_id}")
    assert "COLD-1" in page.text and "Chilled 2–8 °C" in page.text


def test_products_authorisations_and_boms_through_their_forms(
    client: TestClient, factory: Any
) -> None:
    build_network(factory)
    log_in(client, "acme-qa")
    token = csrf(client)
    response = client.post(
        "/products/new",
        data={
            "csrf_token": token,
            "gtin": gtin(7)[1:],
            "name": "Catheter kit",
            "tracking_level": "lot",
            "storage_class": "ambient",
            "unit_of_measure": "EA",
            "device_class_eu": "IIa",
            "shelf_life_days": "730",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    product_id = int(response.headers["location"].split("/")[2].split("?")[0])
    # A certificate in the wrong format is refused with the schema's message.
    refused = client.post(
        f"/products/{product_id}/authorisations",
        data={
            "csrf_token": token,
            "kind": "fda_510k",
            "certificate_number": "510-1",
            "valid_from": "2026-01-01",
        },
    )
    assert refused.status_code == 422
    assert refused.text.count("Certificate number 510-1 does not look like K123456.") == 1
    added = client.post(
        f"/products/{product_id}/authorisations",
        data={
            "csrf_token": token,
            "kind": "nmpa_registration",
            "certificate_number": "国械注准20263140001",
            "authority": "NMPA",
            "valid_from": "2026-01-01",
            "valid_until": "2030-12-31",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    # A BOM with a bad component on its third row: the error sits on that row.
    refused = client.post(
        f"/products/{product_id}/boms",
        data={
            "csrf_token": token,
            "lines.0.component_gtin": gtin(8),
            "lines.0.quantity_per": "2",
            "lines.2.component_gtin": "12345678901234",
            "lines.2.quantity_per": "1",
        },
    )
    assert refused.status_code == 422
    assert list(field_errors(refused.text)) == ["lines.2.component_gtin"]
    created = client.post(
        f"/products/{product_id}/boms",
        data={
            "csrf_token": token,
            "lines.0.component_gtin": gtin(8),
            "lines.0.quantity_per": "2",
            "lines.0.unit_of_measure": "EA",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    with system_unit_of_work(factory) as session:
        product = session.get(Product, product_id)
        assert product is not None
        assert (product.gtin, product.device_class_eu, product.shelf_life_days) == (
            gtin(7),
            "IIa",
            730,
        )
        authorisation = session.scalars(select(MarketAuthorisation)).one()
        assert (authorisation.region, authorisation.certificate_number) == (
            "CN",
            "国械注准20263140001",
        )
        bom = session.scalars(select(BillOfMaterials)).one()
        assert (bom.version, bom.status) == (1, "draft")
    activated = client.post(
        f"/boms/{bom.id}/activate", data={"csrf_token": token}, follow_redirects=False
    )
    assert activated.status_code == 303
    page = client.get(f"/products/{product_id}")
    assert "国械注准20263140001" in page.text
    assert "Jan 1, 2026" in page.text and "Dec 31, 2030" in page.text
    assert "badge-active" in page.text


def test_admin_manages_users_and_api_keys(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    log_in(client, "acme-admin")
    token = csrf(client)
    refused = client.post(
        "/users/new",
        data={
            "csrf_token": token,
            "username": "li.wei",
            "display_name": "Li Wei",
            "party_id": str(network.distributor_id),
            "role": "planner",
            "password": "long enough pw",
        },
    )
    assert refused.status_code == 422
    assert field_errors(refused.text) == {"role": ["Role planner is only for the hub's own staff."]}
    assert "long enough pw" not in refused.text
    created = client.post(
        "/users/new",
        data={
            "csrf_token": token,
            "username": "li.wei",
            "display_name": "Li Wei",
            "party_id": str(network.distributor_id),
            "role": "partner_user",
            "password": "long enough pw",
            "locale": "zh_Hans",
            "time_zone": "Asia/Shanghai",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    issued = client.post(
        "/api-keys",
        data={
            "csrf_token": token,
            "party_id": str(network.distributor_id),
            "name": "ERP",
            "role": "partner_user",
        },
    )
    assert issued.status_code == 200
    assert "mlk_" in issued.text
    with system_unit_of_work(factory) as session:
        user = session.scalars(select(User).where(User.username == "li.wei")).one()
        assert (user.party_id, user.role, user.locale, user.time_zone) == (
            network.distributor_id,
            "partner_user",
            "zh_Hans",
            "Asia/Shanghai",
        )


def test_preferences_change_language_and_time_zone(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    log_in(client, "acme-sales")
    token = csrf(client)
    refused = client.post(
        "/preferences", data={"csrf_token": token, "locale": "zh_Hans", "time_zone": "Mars/Olympus"}
    )
    assert refused.status_code == 422
    assert field_errors(refused.text) == {
        "time_zone": ["Unknown time zone Mars/Olympus; use an IANA name such as Asia/Shanghai."]
    }
    saved = client.post(
        "/preferences",
        data={"csrf_token": token, "locale": "zh_Hans", "time_zone": "Asia/Shanghai"},
        follow_redirects=False,
    )
    assert saved.headers["location"] == "/preferences?saved=1"
    page = client.get("/preferences?saved=1")
    assert "已保存。" in page.text
    assert "时间按 Asia/Shanghai 时区显示。" in page.text
    switched = client.post(
        "/preferences/language",
        data={"csrf_token": token, "locale": "en", "next": "/parties"},
        follow_redirects=False,
    )
    assert switched.headers["location"] == "/parties"
    with system_unit_of_work(factory) as session:
        user = session.get(User, network.users["sales"])
        assert user is not None and (user.locale, user.time_zone) == ("en", "Asia/Shanghai")


def test_editing_a_party_keeps_all_its_contacts(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    headers = token_headers(client, "acme-admin")
    contacts = [
        {"name": f"Contact {n}", "email": "", "phone": "", "function": ""} for n in range(5)
    ]
    client.patch(
        f"/api/v1/parties/{network.supplier_id}", headers=headers, json={"contacts": contacts}
    )
    log_in(client, "acme-admin")
    page = client.get(f"/parties/{network.supplier_id}")
    assert input_value(page.text, "contacts.4.name") == "Contact 4"
    assert input_value(page.text, "contacts.5.name") == ""
    form = {
        "csrf_token": csrf(client),
        "name": "acme Components",
        "gln": gln(3),
        "roles": ["supplier"],
        "country": "US",
        "region": "US",
        "time_zone": "UTC",
    }
    form.update({f"contacts.{n}.name": f"Contact {n}" for n in range(5)})
    assert (
        client.post(
            f"/parties/{network.supplier_id}", data=form, follow_redirects=False
        ).status_code
        == 303
    )
    with system_unit_of_work(factory) as session:
        party = session.get(Party, network.supplier_id)
        assert party is not None
        assert [c["name"] for c in party.contacts] == [f"Contact {n}" for n in range(5)]
