"""Parties, sites, locations and users over the REST API: CRUD, validation, problem+json."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import build_network, gln, token_headers
from tests.fixtures_network import snapshot


def test_admin_creates_reads_updates_and_deactivates_a_party(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given an admin of a network
    build_network(factory)
    headers = token_headers(client, "acme-admin")
    # when it registers a hospital with a GLN-13
    body = {
        "name": "St. Anna Hospital",
        "gln": gln(40),
        "roles": ["hospital"],
        "country": "cn",
        "region": "cn",
        "time_zone": "Asia/Shanghai",
        "contacts": [{"name": "Li Wei", "email": "li.wei@example.cn"}],
    }
    created = client.post("/api/v1/parties", json=body, headers=headers)
    # then it is stored normalised
    assert created.status_code == 201, created.text
    party = created.json()
    assert (party["gln"], party["country"], party["region"], party["roles"], party["active"]) == (
        gln(40),
        "CN",
        "CN",
        ["hospital"],
        True,
    )
    # and can be read, filtered, updated and deactivated
    assert (
        client.get(f"/api/v1/parties/{party['id']}", headers=headers).json()["name"]
        == "St. Anna Hospital"
    )
    listed = client.get("/api/v1/parties", params={"role": "hospital"}, headers=headers).json()
    assert [p["gln"] for p in listed["items"]] == [gln(40)]
    assert listed["total"] == 1
    updated = client.patch(
        f"/api/v1/parties/{party['id']}", json={"name": "St. Anna Hospital East"}, headers=headers
    )
    assert updated.json()["name"] == "St. Anna Hospital East"
    deactivated = client.post(
        f"/api/v1/parties/{party['id']}/deactivate", json={"reason": "merged"}, headers=headers
    )
    assert deactivated.json()["active"] is False
    audit = client.get(
        "/api/v1/audit",
        params={"entity_type": "parties", "entity_id": str(party["id"])},
        headers=headers,
    ).json()
    assert [(e["action"], e["reason"]) for e in audit["items"]] == [
        ("deactivate", "merged"),
        ("update", ""),
        ("create", ""),
    ]
    assert audit["items"][1]["old_values"] == {"name": "St. Anna Hospital"}
    assert audit["items"][1]["new_values"] == {"name": "St. Anna Hospital East"}


def test_bad_gln_check_digit_is_a_field_error_and_changes_nothing(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-admin")
    before = snapshot(factory)
    wrong = gln(41)[:-1] + str((int(gln(41)[-1]) + 1) % 10)
    response = client.post(
        "/api/v1/parties",
        json={"name": "X", "gln": wrong, "roles": ["hospital"], "country": "DE", "region": "EU"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("gln", "gs1.bad_check_digit")]
    assert snapshot(factory) == before


def test_duplicate_gln_is_a_conflict(client: TestClient, factory: sessionmaker[Session]) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-admin")
    response = client.post(
        "/api/v1/parties",
        json={
            "name": "Copy",
            "gln": gln(2),
            "roles": ["distributor"],
            "country": "DE",
            "region": "EU",
        },
        headers=headers,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "party.gln_taken"
    assert response.json()["errors"][0]["field"] == "gln"


def test_unknown_field_and_missing_fields_are_reported_per_field(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-admin")
    response = client.post(
        "/api/v1/parties", json={"gln": gln(42), "colour": "red"}, headers=headers
    )
    assert response.status_code == 422
    fields = sorted((e["field"], e["code"]) for e in response.json()["errors"])
    assert fields == [
        ("colour", "extra_forbidden"),
        ("country", "missing"),
        ("name", "missing"),
        ("region", "missing"),
        ("roles", "missing"),
    ]


def test_sites_and_locations_belong_to_their_party(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    headers = token_headers(client, "acme-admin")
    site = client.post(
        "/api/v1/sites",
        json={
            "party_id": net.distributor_id,
            "name": "Shanghai DC",
            "gln": gln(60),
            "country": "CN",
            "time_zone": "Asia/Shanghai",
        },
        headers=headers,
    )
    assert site.status_code == 201, site.text
    location = client.post(
        "/api/v1/locations",
        json={
            "site_id": site.json()["id"],
            "code": "COLD-1",
            "name": "Cold room",
            "storage_class": "chilled_2_8",
            "zone_purpose": "released",
        },
        headers=headers,
    )
    assert location.status_code == 201, location.text
    assert location.json()["party_id"] == net.distributor_id
    duplicate = client.post(
        "/api/v1/locations",
        json={
            "site_id": site.json()["id"],
            "code": "COLD-1",
            "name": "Again",
            "storage_class": "ambient",
            "zone_purpose": "released",
        },
        headers=headers,
    )
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "location.code_taken")
    bad_class = client.post(
        "/api/v1/locations",
        json={
            "site_id": site.json()["id"],
            "code": "X",
            "name": "X",
            "storage_class": "warm",
            "zone_purpose": "released",
        },
        headers=headers,
    )
    assert [(e["field"], e["code"]) for e in bad_class.json()["errors"]] == [
        ("storage_class", "enum")
    ]


def test_user_roles_must_fit_the_party(client: TestClient, factory: sessionmaker[Session]) -> None:
    net = build_network(factory)
    headers = token_headers(client, "acme-admin")
    response = client.post(
        "/api/v1/users",
        json={
            "username": "dist-planner",
            "display_name": "D",
            "password": "long enough pw",
            "role": "planner",
            "party_id": net.distributor_id,
        },
        headers=headers,
    )
    assert (response.status_code, response.json()["code"]) == (422, "role.internal_only")
    ok = client.post(
        "/api/v1/users",
        json={
            "username": "dist-clerk2",
            "display_name": "D",
            "password": "long enough pw",
            "role": "partner_user",
            "party_id": net.distributor_id,
            "locale": "zh_Hans",
            "time_zone": "Asia/Shanghai",
        },
        headers=headers,
    )
    assert ok.status_code == 201
    assert "password" not in ok.json() and "password_hash" not in ok.json()
    audit = client.get(
        "/api/v1/audit",
        params={"entity_type": "users", "entity_id": str(ok.json()["id"])},
        headers=headers,
    ).json()["items"]
    assert audit[0]["new_values"]["password_hash"] == "***"


def test_admin_cannot_deactivate_itself_or_the_hub(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    headers = token_headers(client, "acme-admin")
    me = client.post(f"/api/v1/users/{net.users['admin']}/deactivate", headers=headers)
    assert (me.status_code, me.json()["code"]) == (409, "user.self_deactivation")
    hub = client.post(f"/api/v1/parties/{net.hub_id}/deactivate", headers=headers)
    assert (hub.status_code, hub.json()["code"]) == (409, "party.is_hub")
