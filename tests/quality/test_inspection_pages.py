"""The inspection pages without a browser: a plan from its form, an inspection opened from the
quality form, readings typed by the test lab's analyst on the inspection page, a lot release
requested from its form, the plan list (list toolkit) and the quality home's KPI."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import PASSWORD
from tests.inventory.builders import AMBIENT_GTIN
from tests.quality.inspection_builders import build_lab, ok, receive
from tests.web.browsing import csrf, log_in


def test_plan_inspection_results_and_release_through_the_pages(
    app: object, factory: sessionmaker[Session]
) -> None:
    api = TestClient(app)  # type: ignore[arg-type]
    lab = build_lab(api, factory, "pg")
    receive(api, lab.w, "UI-1", 8)
    qa = TestClient(app)  # type: ignore[arg-type]
    log_in(qa, "pg-qa", PASSWORD)
    token = csrf(qa, "/quality/inspection-plans/new")
    # A plan from the form (one characteristic row filled, the others left empty)
    created = qa.post(
        "/quality/inspection-plans/new",
        data={
            "csrf_token": token,
            "title": "Hub visual check",
            "product_id": str(lab.product_id),
            "kind": "incoming",
            "characteristics.0.name": "Burr",
            "characteristics.0.kind": "attribute",
            "characteristics.0.expected": "none",
            "characteristics.0.sample_size": "2",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    plan_page = qa.get(created.headers["location"])
    assert "Hub visual check" in plan_page.text and "Burr" in plan_page.text
    listed = qa.get("/quality/inspection-plans")
    assert listed.status_code == 200 and "Hub visual check" in listed.text
    # An inspection sent to the lab, from the generic quality form
    opened = qa.post(
        "/quality/inspections/new",
        data={
            "csrf_token": token,
            "gtin": AMBIENT_GTIN,
            "lot": "UI-1",
            "kind": "incoming",
            "lab_party_id": str(lab.lab_id),
        },
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    inspection_path = opened.headers["location"].split("?")[0]
    # The lab's analyst types the readings on the page: a wrong count is shown on the form
    analyst = TestClient(app)  # type: ignore[arg-type]
    log_in(analyst, "pg-lab", PASSWORD)
    page = analyst.get(inspection_path)
    assert page.status_code == 200 and 'name="reading:Burr"' in page.text
    lab_token = csrf(analyst, inspection_path)
    wrong = analyst.post(
        f"{inspection_path}/results",
        data={"csrf_token": lab_token, "reading:Burr": "none"},
        follow_redirects=False,
    )
    assert wrong.status_code == 422 and "needs 2 readings" in wrong.text
    done = analyst.post(
        f"{inspection_path}/results",
        data={"csrf_token": lab_token, "reading:Burr": "none; None"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    decided = analyst.get(inspection_path)
    assert 'data-verdict="pass"' in decided.text
    # Another lab's analyst gets 404 for the page
    other = TestClient(app)  # type: ignore[arg-type]
    log_in(other, "pg-otherlab", PASSWORD)
    assert other.get(inspection_path).status_code == 404
    # QA requests the release from its form; the page shows the lot's stock and the steps
    requested = qa.post(
        "/quality/lot-releases/new",
        data={"csrf_token": token, "gtin": AMBIENT_GTIN, "lot": "UI-1", "note": "CoA ok"},
        follow_redirects=False,
    )
    assert requested.status_code == 303, requested.text
    release_page = qa.get(requested.headers["location"])
    assert "Quarantine: 8" in release_page.text
    release_id = int(requested.headers["location"].split("/")[-1].split("?")[0])
    release = ok(api.get(f"/api/v1/quality/lot-releases/{release_id}", headers=lab.w.qa))
    assert release["inspection_id"] is not None
    home = qa.get("/quality")
    assert home.status_code == 200 and "Inspection plans" in home.text
