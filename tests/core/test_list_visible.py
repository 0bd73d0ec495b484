"""Paged lists carry their total with the page (one statement), past the end too."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import build_network, gtin, token_headers


def test_pages_and_totals(client: TestClient, factory: sessionmaker[Session]) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-qa")
    for n, name in ((1, "Cannula"), (2, "Balloon"), (3, "Stent")):
        body = {
            "gtin": gtin(n),
            "name": name,
            "tracking_level": "lot",
            "storage_class": "ambient",
        }
        assert client.post("/api/v1/products", json=body, headers=headers).status_code == 201

    def page(number: int, **filters: str) -> tuple[list[str], int]:
        answer = client.get(
            "/api/v1/products",
            params={"page": number, "page_size": 2, **filters},
            headers=headers,
        ).json()
        return [item["name"] for item in answer["items"]], answer["total"]

    assert page(1) == (["Balloon", "Cannula"], 3)
    assert page(2) == (["Stent"], 3)
    assert page(3) == ([], 3)
    assert page(1, q="Stent") == (["Stent"], 1)
    assert page(1, q="nothing") == ([], 0)
    assert page(2, q="nothing") == ([], 0)
    # a partner sees what its scope allows, with the matching total
    distributor = token_headers(client, "acme-distributor")
    seen = client.get("/api/v1/products", headers=distributor).json()
    assert seen["total"] == len(seen["items"])
