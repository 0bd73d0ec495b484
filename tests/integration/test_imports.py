"""Master-data imports: a data-quality report per row and rule, good rows committed, bad rows
kept, corrected and replayed; mappings, XLSX, GB18030, dry runs, partner isolation, CLI."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.catalog.models import Product
from medledger.cli import app
from medledger.compliance.models import AuditEntry
from medledger.core.config import get_settings
from medledger.core.system import system_unit_of_work
from medledger.integration.imports.models import ImportRow, ImportRun
from medledger.parties.models import Location, Party, Site
from tests.builders import Network, build_network, gln, gtin, token_headers

HEADER = ["gtin", "name", "tracking_level", "storage_class", "shelf_life_days"]


def _csv(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def _upload(
    client: TestClient,
    headers: dict[str, str],
    content: bytes,
    entity: str = "products",
    name: str = "products.csv",
    **form: str,
) -> Any:
    return client.post(
        "/api/v1/imports",
        files={"file": (name, content, "text/csv")},
        data={"entity": entity, **form},
        headers=headers,
    )


def _count(factory: sessionmaker[Session], model: Any) -> int:
    with system_unit_of_work(factory) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def net(factory: sessionmaker[Session]) -> Network:
    return build_network(factory, "im")


def _product_row(n: int) -> list[str]:
    return [gtin(1000 + n), f"Catheter size {n}", "lot", "ambient", "730"]


def test_ten_thousand_rows_with_one_percent_bad(
    client: TestClient, factory: sessionmaker[Session], net: Network
) -> None:
    # Given 10 000 product rows of which 100 are bad in four ways
    rows = [_product_row(n) for n in range(10_000)]
    bad: dict[int, str] = {}
    for n in range(0, 10_000, 100):  # 100 bad rows, spread through the file
        kind = (n // 100) % 4
        if kind == 0:
            rows[n][0] = rows[n][0][:-1] + str((int(rows[n][0][-1]) + 1) % 10)
            bad[n] = "gs1.bad_check_digit"
        elif kind == 1:
            rows[n][1] = ""
            bad[n] = "missing"
        elif kind == 2:
            rows[n][3] = "tropical"
            bad[n] = "enum"
        else:
            rows[n][0] = rows[n - 1][0]
            bad[n] = "import.duplicate_in_file"
    content = _csv(rows)
    admin = token_headers(client, "im-admin")
    # When the file is imported
    response = _upload(client, admin, content)
    # Then the report is exact, the good rows are committed and the bad ones kept
    assert response.status_code == 201, response.text
    run = response.json()
    assert (run["total_rows"], run["accepted_rows"], run["rejected_rows"]) == (10_000, 9_900, 100)
    assert run["rule_counts"] == {
        "enum": 25,
        "gs1.bad_check_digit": 25,
        "import.duplicate_in_file": 25,
        "missing": 25,
    }
    assert run["file_sha256"] == hashlib.sha256(content).hexdigest()
    assert _count(factory, Product) == 9_900
    kept = client.get(
        f"/api/v1/imports/{run['id']}/rows?status=rejected&page_size=500", headers=admin
    ).json()
    assert kept["total"] == 100
    assert [(r["row_number"], [e["code"] for e in r["errors"]]) for r in kept["items"]] == [
        (n + 2, [bad[n]]) for n in sorted(bad)
    ]
    fields = {r["row_number"]: r["errors"][0]["field"] for r in kept["items"]}
    assert {fields[n + 2] for n in bad if bad[n] == "missing"} == {"name"}
    assert {fields[n + 2] for n in bad if bad[n] == "enum"} == {"storage_class"}
    # When every bad row is corrected and replayed
    for row in kept["items"]:
        n = row["row_number"] - 2
        corrected = dict(zip(HEADER, _product_row(n), strict=True))
        if bad[n] == "import.duplicate_in_file":
            corrected["gtin"] = gtin(900_000 + n)
        patched = client.patch(
            f"/api/v1/imports/{run['id']}/rows/{row['id']}",
            json={"values": corrected},
            headers=admin,
        )
        assert patched.status_code == 200, patched.text
    replayed = client.post(f"/api/v1/imports/{run['id']}/replay", headers=admin)
    # Then all of them are imported, and the run says so
    assert replayed.json() == {"imported": 100, "rejected": 0}
    assert _count(factory, Product) == 10_000
    after = client.get(f"/api/v1/imports/{run['id']}", headers=admin).json()
    assert after["replayed_rows"] == 100
    assert (
        client.get(f"/api/v1/imports/{run['id']}/rows?status=rejected", headers=admin).json()[
            "total"
        ]
        == 0
    )
    # And the run itself is in the audit trail with the file's hash
    with system_unit_of_work(factory) as session:
        values = session.scalars(
            select(AuditEntry.new_values).where(AuditEntry.entity_type == "import_runs")
        ).all()
    assert any(v and v.get("file_sha256") == run["file_sha256"] for v in values)


def test_a_dry_run_reports_the_same_and_imports_nothing(
    client: TestClient, factory: sessionmaker[Session], net: Network
) -> None:
    admin = token_headers(client, "im-admin")
    content = _csv([_product_row(1), [*_product_row(2)[:3], "tropical", "10"]])
    dry = _upload(client, admin, content, dry_run="true").json()
    assert (dry["dry_run"], dry["accepted_rows"], dry["rule_counts"]) == (True, 1, {"enum": 1})
    assert _count(factory, Product) == 0
    replay = client.post(f"/api/v1/imports/{dry['id']}/replay", headers=admin)
    assert (replay.status_code, replay.json()["code"]) == (409, "import.row_not_replayable")
    real = _upload(client, admin, content).json()
    assert (real["accepted_rows"], real["rule_counts"]) == (1, {"enum": 1})
    assert _count(factory, Product) == 1


def test_a_row_refused_by_the_service_is_kept_and_the_rest_committed(
    client: TestClient, factory: sessionmaker[Session], net: Network
) -> None:
    admin = token_headers(client, "im-admin")
    assert _upload(client, admin, _csv([_product_row(1)])).json()["accepted_rows"] == 1
    # The same GTIN again: the catalogue refuses it, the other row goes in
    run = _upload(client, admin, _csv([_product_row(1), _product_row(2)])).json()
    assert (run["accepted_rows"], run["rejected_rows"]) == (1, 1)
    [row] = client.get(f"/api/v1/imports/{run['id']}/rows", headers=admin).json()["items"]
    assert row["row_number"] == 2
    assert [e["field"] for e in row["errors"]] == ["gtin"]
    assert _count(factory, Product) == 2


def test_an_xlsx_file_with_chinese_headers_and_a_saved_mapping(
    client: TestClient, factory: sessionmaker[Session], net: Network
) -> None:
    admin = token_headers(client, "im-admin")
    mapping = {
        "商品条码": "gtin",
        "名称": "name",
        "追溯级别": "tracking_level",
        "储存条件": "storage_class",
        "备注": "",
    }
    saved = client.put(
        "/api/v1/imports/mappings/erp-export",
        json={"entity": "products", "columns": mapping},
        headers=admin,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["columns"] == {k: v for k, v in mapping.items() if v}
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(mapping))
    sheet.append([gtin(7), "中心静脉导管套件", "serial", "chilled_2_8", "忽略"])
    sheet.append([int(gtin(8)), "注射器", "lot", "ambient", None])
    buffer = io.BytesIO()
    book.save(buffer)
    run = _upload(client, admin, buffer.getvalue(), name="export.xlsx", mapping="erp-export").json()
    assert (run["total_rows"], run["accepted_rows"], run["mapping_name"]) == (2, 2, "erp-export")
    with system_unit_of_work(factory) as session:
        names = session.execute(select(Product.gtin, Product.name).order_by(Product.gtin)).all()
    assert [tuple(n) for n in names] == [(gtin(7), "中心静脉导管套件"), (gtin(8), "注射器")]
    assert client.get("/api/v1/imports/mappings", headers=admin).json() == [
        {"name": "erp-export", "entity": "products", "columns": saved.json()["columns"]}
    ]


def test_a_gb18030_csv_from_chinese_excel_is_read(
    client: TestClient, factory: sessionmaker[Session], net: Network
) -> None:
    admin = token_headers(client, "im-admin")
    content = _csv([[gtin(9), "导管", "lot", "ambient", ""]], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    run = _upload(client, admin, content).json()
    assert run["accepted_rows"] == 1
    with system_unit_of_work(factory) as session:
        assert session.scalars(select(Product.name)).one() == "导管"


def test_parties_then_sites_then_locations_by_gln(
    client: TestClient, factory: sessionmaker[Session], net: Network
) -> None:
    admin = token_headers(client, "im-admin")
    parties = _csv(
        [["Wuhan Central Hospital", gln(50), "hospital;distributor", "CN", "CN"]],
        header=["name", "gln", "roles", "country", "region"],
    )
    assert _upload(client, admin, parties, entity="parties").json()["accepted_rows"] == 1
    sites = _csv(
        [
            [gln(50), "Main warehouse", gln(51), "CN"],
            [gln(99), "Nowhere", gln(52), "CN"],
        ],
        header=["party_gln", "name", "gln", "country"],
    )
    run = _upload(client, admin, sites, entity="sites").json()
    assert (run["accepted_rows"], run["rule_counts"]) == (1, {"import.unknown_reference": 1})
    [row] = client.get(f"/api/v1/imports/{run['id']}/rows", headers=admin).json()["items"]
    assert row["errors"][0]["field"] == "party_gln"
    locations = _csv(
        [[gln(51), "A-01", "Cold room", "chilled_2_8", "released"]],
        header=["site_gln", "code", "name", "storage_class", "zone_purpose"],
    )
    assert _upload(client, admin, locations, entity="locations").json()["accepted_rows"] == 1
    with system_unit_of_work(factory) as session:
        party = session.scalars(select(Party).where(Party.gln == gln(50))).one()
        site = session.scalars(select(Site).where(Site.gln == gln(51))).one()
        location = session.scalars(select(Location).where(Location.code == "A-01")).one()
    assert (party.roles, site.party_id, location.site_id) == (
        ["distributor", "hospital"],
        party.id,
        site.id,
    )


@pytest.mark.parametrize(
    ("content", "form", "code", "field"),
    [
        (_csv([["x"]], header=["name"]), {}, "import.unmapped_field", "columns"),
        (_csv([["x"]]), {"columns": "not json"}, "import.columns", "columns"),
        (b"\xff\xfe\x00garbage\x81\x82", {}, "import.encoding", None),
        (_csv([["x"]]), {"mapping": "nope"}, "import.unknown_mapping", "mapping"),
    ],
)
def test_a_file_that_cannot_be_read_or_mapped_is_refused_whole(
    client: TestClient,
    factory: sessionmaker[Session],
    net: Network,
    content: bytes,
    form: dict[str, str],
    code: str,
    field: str | None,
) -> None:
    response = _upload(client, token_headers(client, "im-admin"), content, **form)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == code
    if field:
        assert [e["field"] for e in problem["errors"]] == [field]
    assert _count(factory, ImportRun) == 0
    assert _count(factory, ImportRow) == 0


def test_partners_cannot_import_what_they_may_not_write_nor_see_others_runs(
    client: TestClient, factory: sessionmaker[Session], net: Network
) -> None:
    admin = token_headers(client, "im-admin")
    run = _upload(client, admin, _csv([_product_row(1)])).json()
    distributor = token_headers(client, "im-distributor")
    refused = _upload(client, distributor, _csv([_product_row(2)]))
    assert refused.status_code == 403
    assert client.get(f"/api/v1/imports/{run['id']}", headers=distributor).status_code == 404
    assert client.get(f"/api/v1/imports/{run['id']}/rows", headers=distributor).status_code == 404
    assert client.get("/api/v1/imports", headers=distributor).json()["total"] == 0
    assert _count(factory, Product) == 1


@pytest.fixture
def configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()


def test_the_command_line_import_reports_and_exits_by_outcome(
    configured: Engine, factory: sessionmaker[Session], net: Network, tmp_path: Any
) -> None:
    path = tmp_path / "products.csv"
    path.write_bytes(_csv([_product_row(1), [*_product_row(2)[:3], "tropical", ""]]))
    runner = CliRunner()
    dry = runner.invoke(app, ["import", "data", str(path), "--entity", "products", "--dry-run"])
    assert dry.exit_code == 1, dry.output
    assert "(dry run): 2 rows, 1 accepted, 1 rejected" in dry.output
    assert "row 3: storage_class: enum:" in dry.output
    assert _count(factory, Product) == 0
    path.write_bytes(_csv([_product_row(1)]))
    real = runner.invoke(app, ["import", "data", str(path), "--entity", "products"])
    assert real.exit_code == 0, real.output
    assert "1 rows, 1 accepted, 0 rejected" in real.output
    assert _count(factory, Product) == 1
    bad = runner.invoke(app, ["import", "data", str(path), "--entity", "widgets"])
    assert bad.exit_code == 2
    assert "import.unknown_entity" in bad.output
