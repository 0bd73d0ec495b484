"""The standard query parameters of EPCIS 2.0 §8.2.7.1 beyond the indexed ones (error
declarations, quantities, ILMD and extension fields, sensor fields, ordering and counts), each
against the event set computed by hand on the fixed scenario ledger of ``epcis_scenario``
(e1–e8; e8 is e7's error declaration, so "7" appears twice when both match)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, token_headers
from tests.trace.epcis_scenario import (
    HUB_GLN,
    at,
    event_id,
    event_ids,
    run_scenario,
    sgln_urn,
)


@pytest.fixture
def scenario(client: TestClient, factory: sessionmaker[Session]) -> dict[str, dict[str, str]]:
    build_network(factory, "sp")
    headers = {name: token_headers(client, f"sp-{name}") for name in ("warehouse", "distributor")}
    run_scenario(client, headers["warehouse"], headers["distributor"])
    return headers


def ask(client: TestClient, headers: dict[str, str], params: Any) -> list[int]:
    response = client.get("/epcis/events", params=params, headers=headers)
    assert response.status_code == 200, (params, response.text)
    numbers = {event_id(n): n for n in range(1, 10)}
    return [numbers[i] for i in event_ids(response.json())]


CASES: list[tuple[dict[str, str], list[int]]] = [
    ({"EQ_eventID": event_id(3)}, [3]),
    ({"EQ_eventID": f"{event_id(3)},{event_id(5)}"}, [3, 5]),
    ({"EQ_eventID": event_id(7)}, [7, 7]),
    ({"EXISTS_errorDeclaration": "true"}, [7]),
    ({"GE_errorDeclarationTime": at(8)}, [7]),
    ({"LT_errorDeclarationTime": at(8)}, []),
    ({"EQ_errorReason": "incorrect_data"}, [7]),
    ({"EQ_errorReason": "urn:epcglobal:cbv:er:incorrect_data"}, [7]),
    ({"EQ_errorReason": "did_not_occur"}, []),
    ({"EQ_correctiveEventID": event_id(99)}, [7]),
    ({"EQ_quantity": "100"}, [1]),
    ({"GT_quantity": "50"}, [1]),
    ({"GE_quantity": "10"}, [1, 2]),
    ({"LT_quantity": "50"}, [2]),
    ({"LE_quantity": "10"}, [2]),
    ({"EQ_quantity": "10", "eventType": "ObjectEvent"}, []),
    ({"EQ_ILMD_cbvmda:itemExpirationDate": "2028-12-31"}, [1]),
    ({"EQ_ILMD_urn:epcglobal:cbv:mda:lotNumber": "LOTF1"}, [2]),
    ({"EXISTS_ILMD_cbvmda:lotNumber": ""}, [2]),
    ({"EXISTS_ILMD_cbvmda:itemExpirationDate": ""}, [1, 2]),
    ({"EQ_INNER_ILMD_cbvmda:lotNumber": "LOTF1"}, [2]),
    ({"EXISTS_cbvmda:lotNumber": ""}, []),
    ({"WD_bizLocation": sgln_urn(HUB_GLN)}, [1, 2]),
    ({"WD_readPoint": f"https://id.gs1.org/414/{HUB_GLN}"}, [1]),
    ({"EQ_persistentDisposition_set": "completeness_verified"}, []),
    ({"EQ_type": "gs1:Temperature"}, []),
    ({"GE_startTime": at(0)}, []),
    ({"EQ_booleanValue": "true"}, []),
    ({"orderBy": "eventTime", "orderDirection": "DESC"}, [7, 7, 6, 5, 4, 3, 2, 1]),
    ({"orderBy": "eventTime", "orderDirection": "ASC"}, [1, 2, 3, 4, 5, 6, 7, 7]),
    ({"eventCountLimit": "3"}, [1, 2, 3]),
    ({"maxEventCount": "8"}, [1, 2, 3, 4, 5, 6, 7, 7]),
]


def test_each_standard_parameter_selects_exactly(
    client: TestClient, scenario: dict[str, dict[str, str]]
) -> None:
    wrong = {}
    for params, expected in CASES:
        got = ask(client, scenario["warehouse"], params)
        if got != expected:
            wrong[str(params)] = (got, expected)
    assert wrong == {}


def test_count_limits_and_paging(client: TestClient, scenario: dict[str, dict[str, str]]) -> None:
    hub = scenario["warehouse"]
    first = client.get("/epcis/events", params={"perPage": 2, "eventCountLimit": 3}, headers=hub)
    numbers = {event_id(n): n for n in range(1, 10)}
    assert [numbers[i] for i in event_ids(first.json())] == [1, 2]
    link = first.headers["Link"]
    second = client.get(link[1 : link.index(">")], headers=hub)
    assert [numbers[i] for i in event_ids(second.json())] == [3]
    assert "Link" not in second.headers
    # Descending pages continue where the last one stopped.
    params = {"orderBy": "eventTime", "orderDirection": "DESC", "perPage": 3}
    page = client.get("/epcis/events", params=params, headers=hub)
    link = page.headers["Link"]
    rest = client.get(link[1 : link.index(">")], headers=hub)
    assert [numbers[i] for i in event_ids(page.json()) + event_ids(rest.json())][:6] == [
        7,
        7,
        6,
        5,
        4,
        3,
    ]
    too_many = client.get("/epcis/events", params={"maxEventCount": 7}, headers=hub)
    assert (too_many.status_code, too_many.json()["type"], too_many.json()["code"]) == (
        413,
        "epcisException:QueryTooLargeException",
        "epcis.query_too_large",
    )


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"GT_quantity": "abc"}, "GT_quantity"),
        ({"orderBy": "bizStep"}, "orderBy"),
        ({"orderDirection": "UP"}, "orderDirection"),
        ({"EQ_booleanValue": "maybe"}, "EQ_booleanValue"),
        ({"EQ_SENSORELEMENT_ex:x": "1"}, "EQ_SENSORELEMENT_ex:x"),
        ({"eventCountLimit": "0"}, "eventCountLimit"),
        ({"eventCountLimit": "2", "maxEventCount": "2"}, "maxEventCount"),
        ({"GE_errorDeclarationTime": "yesterday"}, "GE_errorDeclarationTime"),
        ({"EQ_errorReason": "oops"}, "EQ_errorReason"),
        ({"GT_ILMD_cbvmda:lotNumber": "soon"}, "GT_ILMD_cbvmda:lotNumber"),
    ],
)
def test_a_bad_standard_parameter_is_a_query_parameter_exception(
    client: TestClient, scenario: dict[str, dict[str, str]], params: dict[str, str], parameter: str
) -> None:
    response = client.get("/epcis/events", params=params, headers=scenario["warehouse"])
    assert response.status_code == 400
    body = response.json()
    assert (body["type"], body["code"]) == (
        "epcisException:QueryParameterException",
        "epcis.invalid_query_parameter",
    )
    assert body["errors"][0]["field"] == parameter


def test_a_partner_matches_only_what_it_may_see(
    client: TestClient, scenario: dict[str, dict[str, str]]
) -> None:
    distributor = scenario["distributor"]
    assert ask(client, distributor, {"EXISTS_errorDeclaration": "true"}) == []
    assert ask(client, distributor, {"EQ_ILMD_cbvmda:lotNumber": "LOTF1"}) == [2]
    assert ask(client, distributor, {"EQ_quantity": "100"}) == []
    assert ask(client, distributor, {"orderBy": "eventTime"}) == [6, 5, 4, 3, 2]
