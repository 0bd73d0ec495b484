"""Products, market authorisations and BOMs over the REST API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import build_network, gtin, token_headers
from tests.fixtures_network import snapshot


def _product(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "gtin": gtin(1),
        "name": "Hip implant",
        "tracking_level": "serial",
        "storage_class": "ambient",
        "shelf_life_days": 1825,
        "device_class_us": "iii",
        "device_class_eu": "iii",
        "device_class_cn": "III",
        "basic_udi_di": "409876HIPIMPLANT7X",
        "unit_of_measure": "ea",
    }
    body.update(overrides)
    return body


def test_gtin13_is_padded_to_gtin14_and_becomes_the_udi_di(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-qa")
    response = client.post("/api/v1/products", json=_product(gtin="4006381333931"), headers=headers)
    assert response.status_code == 201, response.text
    product = response.json()
    assert (
        product["gtin"],
        product["udi_di"],
        product["device_class_us"],
        product["unit_of_measure"],
    ) == ("04006381333931", "04006381333931", "III", "EA")
    by_gtin = client.get(
        "/api/v1/products", params={"gtin": "04006381333931"}, headers=headers
    ).json()
    assert by_gtin["total"] == 1


def test_gtin8_and_gtin12_are_accepted(client: TestClient, factory: sessionmaker[Session]) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-qa")
    eight = client.post("/api/v1/products", json=_product(gtin="96385074"), headers=headers)
    twelve = client.post("/api/v1/products", json=_product(gtin="036000291452"), headers=headers)
    assert (eight.json()["gtin"], twelve.json()["gtin"]) == ("00000096385074", "00036000291452")


def test_invalid_product_fields_are_each_reported(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-qa")
    before = snapshot(factory)
    response = client.post(
        "/api/v1/products",
        json=_product(
            gtin="04006381333932", device_class_eu="IV", tracking_level="batch", shelf_life_days=0
        ),
        headers=headers,
    )
    assert response.status_code == 422
    assert sorted((e["field"], e["code"]) for e in response.json()["errors"]) == [
        ("device_class_eu", "device_class.invalid"),
        ("gtin", "gs1.bad_check_digit"),
        ("shelf_life_days", "greater_than_equal"),
        ("tracking_level", "enum"),
    ]
    assert snapshot(factory) == before


def test_duplicate_gtin_conflicts(client: TestClient, factory: sessionmaker[Session]) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-qa")
    client.post("/api/v1/products", json=_product(), headers=headers)
    again = client.post("/api/v1/products", json=_product(name="Other"), headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "gtin.taken")


def test_market_authorisations_follow_the_rules_of_each_market(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-qa")
    product_id = client.post("/api/v1/products", json=_product(), headers=headers).json()["id"]
    url = f"/api/v1/products/{product_id}/authorisations"
    ok = client.post(
        url,
        json={"kind": "fda_pma", "certificate_number": "P190012", "valid_from": "2020-03-01"},
        headers=headers,
    )
    assert ok.status_code == 201, ok.text
    assert (ok.json()["region"], ok.json()["kind"]) == ("US", "fda_pma")
    nmpa = client.post(
        url,
        json={
            "kind": "nmpa_registration",
            "certificate_number": "国械注准20193130123",
            "valid_from": "2019-05-01",
            "valid_until": "2029-04-30",
        },
        headers=headers,
    )
    assert nmpa.json()["region"] == "CN"
    bad_format = client.post(
        url,
        json={"kind": "fda_510k", "certificate_number": "510-123", "valid_from": "2020-01-01"},
        headers=headers,
    )
    assert bad_format.json()["errors"][0]["code"] == "authorisation.certificate_format"
    wrong_region = client.post(
        url,
        json={
            "kind": "eu_mdr_certificate",
            "region": "US",
            "certificate_number": "X",
            "valid_from": "2020-01-01",
        },
        headers=headers,
    )
    assert wrong_region.json()["errors"][0]["code"] == "authorisation.region_mismatch"
    backwards = client.post(
        url,
        json={
            "kind": "eu_mdr_certificate",
            "certificate_number": "CE 1",
            "valid_from": "2024-01-01",
            "valid_until": "2023-01-01",
        },
        headers=headers,
    )
    assert backwards.json()["errors"][0]["code"] == "authorisation.validity_order"
    listed = client.get(url, headers=headers).json()
    assert [(a["region"], a["certificate_number"]) for a in listed] == [
        ("CN", "国械注准20193130123"),
        ("US", "P190012"),
    ]


def test_bom_versions(client: TestClient, factory: sessionmaker[Session]) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-qa")
    product_id = client.post("/api/v1/products", json=_product(), headers=headers).json()["id"]
    url = f"/api/v1/products/{product_id}/boms"
    first = client.post(
        url,
        json={
            "lines": [
                {"component_gtin": gtin(10), "quantity_per": "1"},
                {"component_gtin": gtin(11), "quantity_per": "2.5", "unit_of_measure": "g"},
            ]
        },
        headers=headers,
    )
    assert first.status_code == 201, first.text
    assert (first.json()["version"], first.json()["status"]) == (1, "draft")
    assert [(line["component_gtin"], line["quantity_per"]) for line in first.json()["lines"]] == [
        (gtin(10), "1"),
        (gtin(11), "2.5"),
    ]
    client.post(f"/api/v1/boms/{first.json()['id']}/activate", headers=headers)
    second = client.post(
        url, json={"lines": [{"component_gtin": gtin(12), "quantity_per": "1"}]}, headers=headers
    ).json()
    client.post(f"/api/v1/boms/{second['id']}/activate", headers=headers)
    versions = client.get(url, headers=headers).json()
    assert [(b["version"], b["status"]) for b in versions] == [(2, "active"), (1, "obsolete")]
    again = client.post(f"/api/v1/boms/{first.json()['id']}/activate", headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "bom.not_draft")
    bad = client.post(
        url,
        json={
            "lines": [
                {"component_gtin": gtin(1), "quantity_per": "1"},
                {"component_gtin": gtin(13), "quantity_per": "1"},
                {"component_gtin": gtin(13), "quantity_per": "0"},
            ]
        },
        headers=headers,
    )
    assert sorted((e["field"], e["code"]) for e in bad.json()["errors"]) == [
        ("lines.2.quantity_per", "greater_than")
    ]
    self_ref = client.post(
        url,
        json={
            "lines": [
                {"component_gtin": gtin(1), "quantity_per": "1"},
                {"component_gtin": gtin(13), "quantity_per": "1"},
                {"component_gtin": gtin(13), "quantity_per": "3"},
            ]
        },
        headers=headers,
    )
    assert sorted((e["field"], e["code"]) for e in self_ref.json()["errors"]) == [
        ("lines.0.component_gtin", "bom.self_reference"),
        ("lines.2.component_gtin", "bom.duplicate_component"),
    ]
