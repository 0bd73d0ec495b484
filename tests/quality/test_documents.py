"""Device history record (components from the trace genealogy, inspections, NCRs, signatures)
and certificate of conformance as pages and PDF files; the PDF text is extracted and checked
(Chinese with the embedded CJK font)."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.pdf import PdfDocument, font_path
from tests.builders import PASSWORD
from tests.quality.inspection_builders import Lab, build_lab, ok
from tests.trace.epcis_scenario import COMPONENT_GTIN, DL, FINISHED_GTIN, _base, document
from tests.web.browsing import list_column, log_in

LOT_IN = f"{DL}/01/{COMPONENT_GTIN}/10/CMP-7"
LOT_OUT = f"{DL}/01/{FINISHED_GTIN}/10/FG-1"


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def lab(client: TestClient, factory: sessionmaker[Session]) -> Lab:
    return build_lab(client, factory, "doc")


def _finished_lot(client: TestClient, lab: Lab) -> dict[str, int]:
    """Products, a transformation CMP-7 → FG-1 captured as EPCIS, a passed final inspection
    of FG-1 and an NCR on the component lot."""
    w = lab.w
    ids = {}
    for number, name in ((COMPONENT_GTIN, "Hub moulding"), (FINISHED_GTIN, "Catheter 导管")):
        ids[number] = ok(
            client.post(
                "/api/v1/products",
                json={
                    "gtin": number,
                    "name": name,
                    "tracking_level": "lot",
                    "storage_class": "ambient",
                },
                headers=w.admin,
            ),
            201,
        )["id"]
    event = _base(
        1,
        "TransformationEvent",
        bizStep="assembling",
        inputQuantityList=[{"epcClass": LOT_IN, "quantity": 50}],
        outputQuantityList=[{"epcClass": LOT_OUT, "quantity": 50}],
    )
    job = client.post("/epcis/capture", json=document(event), headers=w.qa)
    assert job.status_code == 202, job.text
    ok(
        client.post(
            "/api/v1/quality/inspection-plans",
            json={
                "title": "Final leak test",
                "product_id": ids[FINISHED_GTIN],
                "kind": "final",
                "characteristics": [{"name": "Leak", "kind": "attribute", "expected": "none"}],
            },
            headers=w.qa,
        ),
        201,
    )
    inspection = ok(
        client.post(
            "/api/v1/quality/inspections",
            json={"gtin": FINISHED_GTIN, "lot": "FG-1", "kind": "final"},
            headers=w.qa,
        ),
        201,
    )
    ok(
        client.post(
            f"/api/v1/quality/inspections/{inspection['id']}/results",
            json={"results": [{"name": "Leak", "values": ["none"]}]},
            headers=w.qa,
        )
    )
    ncr = ok(
        client.post(
            "/api/v1/quality/ncrs",
            json={
                "title": "Flash on moulding",
                "affected_lots": [{"gtin": COMPONENT_GTIN, "lot": "CMP-7"}],
            },
            headers=w.qa,
        ),
        201,
    )
    return {"inspection": inspection["id"], "ncr": ncr["id"]}


def test_the_dhr_lists_components_from_the_genealogy_with_their_records_as_page_and_pdf(
    client: TestClient, lab: Lab
) -> None:
    made = _finished_lot(client, lab)
    w = lab.w
    response = client.get(
        "/api/v1/quality/documents/dhr",
        params={"gtin": FINISHED_GTIN, "lot": "FG-1"},
        headers=w.qa,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    inspection = ok(client.get(f"/api/v1/quality/inspections/{made['inspection']}", headers=w.qa))
    ncr = ok(client.get(f"/api/v1/quality/ncrs/{made['ncr']}", headers=w.qa))
    for expected in (
        "Device history record",
        "Catheter 导管",
        "FG-1",
        COMPONENT_GTIN,
        "CMP-7",
        "Hub moulding",
        inspection["number"],
        ncr["number"],
        "Flash on moulding",
    ):
        assert expected in text, (expected, text)
    # Unknown product: 422 with the field; a partner (no quality read of the hub) is refused
    unknown = client.get(
        "/api/v1/quality/documents/dhr",
        params={"gtin": "04098760009990", "lot": "X"},
        headers=w.qa,
    )
    assert unknown.status_code == 422
    # The page and its PDF
    log_in(client, "doc-qa", PASSWORD)
    page = client.get("/quality/documents/dhr", params={"gtin": FINISHED_GTIN, "lot": "FG-1"})
    assert page.status_code == 200
    assert "CMP-7" in page.text and inspection["number"] in page.text
    pdf = client.get("/quality/documents/dhr/pdf", params={"gtin": FINISHED_GTIN, "lot": "FG-1"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "CMP-7" in pdf_text(pdf.content)


@pytest.mark.skipif(font_path() is None or "wqy" not in str(font_path()), reason="no CJK font")
def test_chinese_text_is_embedded_with_the_system_cjk_font() -> None:
    doc = PdfDocument("器械历史记录", subtitle="批号 L-1")
    doc.table(["产品", "批号"], [["导管", "L-1"]])
    text = pdf_text(doc.render())
    assert "器械历史记录" in text and "导管" in text and "批号 L-1" in text


def test_a_certificate_of_conformance_needs_every_lot_released(
    client: TestClient, factory: sessionmaker[Session], lab: Lab
) -> None:
    from tests.inventory.builders import AMBIENT_GTIN, release_lot, sscc

    w = lab.w
    for lot in ("S-1",):
        ok(
            client.post(
                "/api/v1/inventory/receipts",
                json={
                    "location_id": w.dock,
                    "lines": [{"gtin": AMBIENT_GTIN, "lot": lot, "quantity": 5}],
                },
                headers=w.warehouse,
            ),
            201,
        )
    release = release_lot(client, w, AMBIENT_GTIN, "S-1")
    for body, path in (
        (
            {
                "from_location_id": w.dock,
                "to_location_id": w.shipping,
                "lines": [{"gtin": AMBIENT_GTIN, "lot": "S-1", "quantity": 3}],
            },
            "/api/v1/inventory/picks",
        ),
    ):
        ok(client.post(path, json=body, headers=w.warehouse), 201)
    unit = sscc(77)
    ok(
        client.post(
            "/api/v1/inventory/packs",
            json={
                "location_id": w.shipping,
                "sscc": unit,
                "lines": [{"gtin": AMBIENT_GTIN, "lot": "S-1", "quantity": 3}],
            },
            headers=w.warehouse,
        ),
        201,
    )
    ok(
        client.post(
            "/api/v1/inventory/shipments",
            json={
                "location_id": w.shipping,
                "ssccs": [unit],
                "destination_party_id": w.network.distributor_id,
            },
            headers=w.warehouse,
        ),
        201,
    )
    shipments = ok(client.get("/api/v1/inventory/shipments", headers=w.qa))
    shipment_id = next(s["id"] for s in shipments if s["sscc"] == unit)
    response = client.get(f"/api/v1/quality/documents/coc/{shipment_id}", headers=w.qa)
    assert response.status_code == 200, response.text
    text = pdf_text(response.content)
    for expected in (
        "Certificate of conformance",
        unit,
        "S-1",
        release["number"],
        "conform to their specifications",
    ):
        assert expected in text, (expected, text)
    assert client.get("/api/v1/quality/documents/coc/999999", headers=w.qa).status_code == 404
    # The compliance documents page lists the shipment's certificate (list toolkit), searchable
    # by SSCC and exported as CSV
    log_in(client, "doc-qa")
    listed = client.get("/quality/documents").text
    assert unit in list_column(listed, "sscc")
    assert f'href="/quality/documents/coc/{shipment_id}/pdf"' in listed
    found = client.get("/quality/documents", params={"q": unit}).text
    assert list_column(found, "sscc") == [unit]
    assert 'data-testid="list-count">1 certificate of conformance<' in found
    exported = client.get("/quality/documents", params={"q": unit, "format": "csv"})
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Logistic unit (SSCC),Consignee,Shipped" and lines[1].startswith(unit)
