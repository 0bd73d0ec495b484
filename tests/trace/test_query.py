"""EPCIS SimpleEventQuery (``GET /epcis/events``): every parameter, paging, errors, isolation."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, token_headers
from tests.trace.epcis_scenario import (
    COMPONENT_GTIN,
    DISTRIBUTOR_GLN,
    DL,
    FINISHED_GTIN,
    HUB_GLN,
    LOT_C,
    S1,
    S2,
    SSCC,
    at,
    event_id,
    event_ids,
    lgtin_urn,
    pgln_urn,
    run_scenario,
    sgln_urn,
    sgtin_urn,
)

from medledger.core.system import system_unit_of_work
from medledger.trace.models import EpcisEvent


@pytest.fixture
def scenario(client: TestClient, factory: sessionmaker[Session]) -> dict[str, dict[str, str]]:
    build_network(factory, "q")
    headers = {
        name: token_headers(client, f"q-{name}")
        for name in ("warehouse", "distributor", "supplier", "auditor")
    }
    run_scenario(client, headers["warehouse"], headers["distributor"])
    return headers


def ask(
    client: TestClient, headers: dict[str, str], params: dict[str, str] | list[tuple[str, str]]
) -> list[int]:
    response = client.get("/epcis/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["type"] == "EPCISQueryDocument"
    numbers = {event_id(n): n for n in range(1, 10)}
    return [numbers[i] for i in event_ids(answer)]


def _record_time_iso(factory: sessionmaker[Session], n: int) -> str:
    with system_unit_of_work(factory) as session:
        moment = session.scalar(
            select(EpcisEvent.record_time).where(EpcisEvent.event_id == event_id(n))
        )
    assert moment is not None
    return moment.isoformat()


SSCC_URN = f"urn:epc:id:sscc:{SSCC[1:8]}.{SSCC[0]}{SSCC[8:17]}"
FINISHED_PATTERN = (
    f"urn:epc:idpat:sgtin:{FINISHED_GTIN[1:8]}.{FINISHED_GTIN[0]}{FINISHED_GTIN[8:13]}.*"
)

CASES: list[tuple[str, dict[str, str], list[int]]] = [
    ("no parameter", {}, [1, 2, 3, 4, 5, 6, 7, 7]),
    ("eventType", {"eventType": "AggregationEvent"}, [3, 4]),
    ("eventType OR", {"eventType": "TransformationEvent,AggregationEvent"}, [2, 3, 4]),
    ("event time window", {"GE_eventTime": at(3), "LT_eventTime": at(5)}, [3, 4]),
    ("event time with offset", {"GE_eventTime": "2026-03-02T15:00:00+02:00"}, [5, 6, 7, 7]),
    ("EQ_action", {"EQ_action": "DELETE"}, [4]),
    ("EQ_action OR with |", {"EQ_action": "ADD|DELETE"}, [1, 3, 4]),
    ("EQ_bizStep bare", {"EQ_bizStep": "shipping"}, [5, 7, 7]),
    ("EQ_bizStep URN", {"EQ_bizStep": "urn:epcglobal:cbv:bizstep:receiving"}, [6]),
    ("EQ_bizStep web URI", {"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-packing"}, [3]),
    ("EQ_disposition", {"EQ_disposition": "in_progress"}, [3, 6]),
    ("EQ_readPoint as DL", {"EQ_readPoint": f"{DL}/414/{HUB_GLN}"}, [1]),
    ("EQ_bizLocation as SGLN URN", {"EQ_bizLocation": sgln_urn(HUB_GLN)}, [1, 2]),
    ("MATCH_epc URN", {"MATCH_epc": sgtin_urn(FINISHED_GTIN, "S1")}, [3]),
    ("MATCH_epc DL", {"MATCH_epc": S2}, [3, 4, 7, 7]),
    ("MATCH_epc pattern", {"MATCH_epc": FINISHED_PATTERN}, [3, 4, 7, 7]),
    ("MATCH_parentID", {"MATCH_parentID": SSCC_URN}, [3, 4]),
    ("MATCH_inputEPC", {"MATCH_inputEPC": sgtin_urn(COMPONENT_GTIN, "CS1")}, [2]),
    ("MATCH_outputEPC", {"MATCH_outputEPC": S2}, [2]),
    ("MATCH_anyEPC", {"MATCH_anyEPC": S1}, [2, 3]),
    ("MATCH_epcClass", {"MATCH_epcClass": lgtin_urn(COMPONENT_GTIN, "LOTC1")}, [1]),
    ("MATCH_anyEPCClass", {"MATCH_anyEPCClass": LOT_C}, [1, 2]),
    ("EQ_bizTransaction_po", {"EQ_bizTransaction_po": "https://example.com/po/4711"}, [5]),
    ("EQ_source_owning_party", {"EQ_source_owning_party": pgln_urn(HUB_GLN)}, [5, 7, 7]),
    (
        "EQ_destination_owning_party",
        {"EQ_destination_owning_party": f"{DL}/417/{DISTRIBUTOR_GLN}"},
        [5, 6, 7, 7],
    ),
    ("AND of parameters", {"EQ_bizStep": "shipping", "MATCH_epc": S2}, [7, 7]),
]


@pytest.mark.parametrize(
    ("params", "expected"), [(p, e) for _, p, e in CASES], ids=[name for name, _, _ in CASES]
)
def test_each_parameter_selects_exactly(
    client: TestClient,
    scenario: dict[str, dict[str, str]],
    params: dict[str, str],
    expected: list[int],
) -> None:
    assert ask(client, scenario["warehouse"], params) == expected


def test_record_time_bounds(
    client: TestClient, factory: sessionmaker[Session], scenario: dict[str, dict[str, str]]
) -> None:
    receipt_recorded = _record_time_iso(factory, 6)

    assert ask(client, scenario["warehouse"], {"GE_recordTime": receipt_recorded}) == [6, 7, 7]
    assert ask(client, scenario["warehouse"], {"LT_recordTime": receipt_recorded}) == [
        1,
        2,
        3,
        4,
        5,
    ]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"GE_eventTime": "yesterday"}, "GE_eventTime"),
        ({"EQ_bizStep": "flying"}, "EQ_bizStep"),
        ({"eventType": "PartyEvent"}, "eventType"),
        ({"EQ_action": "MAYBE"}, "EQ_action"),
        ({"EQ_colour": "red"}, "EQ_colour"),
        ({"EQ_bizTransaction_": "x"}, "EQ_bizTransaction_"),
        ({"perPage": "0"}, "perPage"),
        ({"nextPageToken": "not-a-token"}, "nextPageToken"),
    ],
)
def test_invalid_parameter_is_a_400_problem_naming_it(
    client: TestClient, scenario: dict[str, dict[str, str]], params: dict[str, str], parameter: str
) -> None:
    response = client.get("/epcis/events", params=params, headers=scenario["warehouse"])

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "epcis.invalid_query_parameter"
    assert body["errors"][0]["field"] == parameter


def test_paging_with_next_page_token_and_link_header(
    client: TestClient, scenario: dict[str, dict[str, str]]
) -> None:
    headers = scenario["warehouse"]
    pages: list[list[int]] = []
    url: str | None = "/epcis/events?perPage=3"
    while url is not None:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        numbers = {event_id(n): n for n in range(1, 10)}
        pages.append([numbers[i] for i in event_ids(response.json())])
        link = response.headers.get("link")
        if link is None:
            url = None
        else:
            assert link.endswith('>; rel="next"') and link.startswith("</epcis/events?perPage=3&")
            url = link[1 : link.index(">")]
    assert pages == [[1, 2, 3], [4, 5, 6], [7, 7]]


def test_partner_sees_only_events_of_items_it_handled(
    client: TestClient, scenario: dict[str, dict[str, str]]
) -> None:
    # the distributor received the SSCC (e5, e6) with S1 inside; the shipment of S2 to it
    # (e7) was declared an error (e8), so it never held S2: it sees the events naming the
    # SSCC or S1 (S2 and the components withheld from them), not e7, e8
    distributor, supplier = scenario["distributor"], scenario["supplier"]

    assert ask(client, distributor, {}) == [2, 3, 4, 5, 6]
    # the component went into S1, but the distributor may not read it: no match by it
    assert ask(client, distributor, {"MATCH_anyEPC": sgtin_urn(COMPONENT_GTIN, "CS1")}) == []
    assert ask(client, distributor, {"MATCH_anyEPC": sgtin_urn(FINISHED_GTIN, "S1")}) == [2, 3]
    assert ask(client, supplier, {}) == []
    assert ask(client, scenario["auditor"], {}) == [1, 2, 3, 4, 5, 6, 7, 7]
    hidden = client.get(f"/epcis/events/{quote(event_id(1), safe='')}", headers=distributor)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "epcis.event_not_found")
    seen = client.get(f"/epcis/events/{quote(event_id(2), safe='')}", headers=distributor)
    assert seen.status_code == 200
    assert (
        client.get(f"/epcis/events/{quote(event_id(6), safe='')}", headers=supplier).status_code
        == 404
    )
