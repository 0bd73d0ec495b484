"""GET /api/v1/gs1/parse on a bare FastAPI app (auth and the problem handler are the lead's)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from medledger.core.errors import DomainError
from medledger.identifiers.api import router

GTIN = "09506000134352"


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)

    # A stand-in for the application's problem+json handler: just enough to see the error.
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, error: DomainError) -> JSONResponse:
        return JSONResponse(
            {"code": error.code, "errors": [e.field for e in error.errors]}, error.status
        )

    return TestClient(app)


def test_parse_returns_the_parsed_record(client: TestClient) -> None:
    # when a Digital Link is parsed over HTTP
    response = client.get(
        "/api/v1/gs1/parse", params={"data": f"https://example.com/01/{GTIN}/21/A1?17=260100"}
    )

    # then the body is the record, dates as ISO strings
    assert response.status_code == 200
    assert response.json() == {
        "input": f"https://example.com/01/{GTIN}/21/A1?17=260100",
        "format": "digital_link",
        "symbology_identifier": None,
        "gtin": GTIN,
        "lot": None,
        "serial": "A1",
        "expiry": "2026-01-31",
        "production_date": None,
        "best_before": None,
        "sscc": None,
        "gln": None,
        "udi_di": GTIN,
        "udi_pi": {"serial": "A1", "expiry": "2026-01-31"},
        "element_string": f"(01){GTIN}(21)A1(17)260100",
        "digital_link": f"https://id.gs1.org/01/{GTIN}/21/A1?17=260100",
        "ais": [
            {"ai": "01", "title": "GTIN", "value": GTIN},
            {"ai": "21", "title": "SERIAL", "value": "A1"},
            {"ai": "17", "title": "USE BY or EXPIRY", "value": "260100"},
        ],
    }


def test_parse_keeps_group_separators_in_the_query(client: TestClient) -> None:
    response = client.get("/api/v1/gs1/parse", params={"data": f"]d201{GTIN}10L1\x1d21S"})
    assert (response.status_code, response.json()["serial"]) == (200, "S")


def test_invalid_data_raises_a_domain_error(client: TestClient) -> None:
    response = client.get("/api/v1/gs1/parse", params={"data": "(17)251331"})
    assert response.status_code == 422
    assert response.json() == {"code": "gs1.invalid_date", "errors": ["data"]}
