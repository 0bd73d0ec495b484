"""The UI in a real browser: navigation by role, partner isolation, Chinese and time zones."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.builders import PASSWORD, build_network

pytestmark = pytest.mark.browser

# Screenshots for the README go to docs/screenshots when MEDLEDGER_SCREENSHOTS=1 (so that a
# normal test run leaves the work tree alone), else to a temporary folder.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return DOCS_SCREENSHOTS if os.environ.get("MEDLEDGER_SCREENSHOTS") == "1" else tmp_path


# The master-data entries each role must see, in display order.
MASTER_DATA_NAV = {
    "admin": ["parties", "sites", "locations", "products", "users", "api_keys", "audit"],
    "planner": ["parties", "sites", "locations", "products"],
    "sales": ["parties", "sites", "locations", "products"],
    "warehouse": ["parties", "sites", "locations", "products"],
    "purchasing": ["parties", "sites", "locations", "products"],
    "qa": ["parties", "sites", "locations", "products", "audit"],
    "qa_approver": ["parties", "sites", "locations", "products", "audit"],
    "auditor": ["parties", "sites", "locations", "products", "users", "audit"],
    "distributor": ["parties", "sites", "locations", "products", "users"],
}
OURS = {"parties", "sites", "locations", "products", "users", "api_keys", "audit"}


def log_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def nav_keys(page: Any) -> list[str]:
    return [
        str(k)
        for k in page.locator("nav.mainnav [data-nav]").evaluate_all(
            "links => links.map(a => a.dataset.nav)"
        )
    ]


def test_each_role_sees_exactly_its_navigation(browser_page: Any, factory: Any) -> None:
    # Given a network with one user per role
    build_network(factory)
    from medledger.core.principal import ROLE_PERMISSIONS, Role
    from medledger.web.nav import nav_entries

    page = browser_page
    for who, expected in MASTER_DATA_NAV.items():
        # When the user logs in
        log_in(page, f"acme-{who}")
        keys = nav_keys(page)
        # Then it sees exactly its master-data entries, and any other package's entry only if
        # its role has that entry's permission
        assert [k for k in keys if k in OURS] == expected, who
        role = Role.PARTNER_USER if who == "distributor" else Role(who)
        others = [
            e.key
            for e in nav_entries()
            if e.key not in OURS
            and (e.permission is None or e.permission in ROLE_PERMISSIONS[role])
        ]
        assert [k for k in keys if k not in OURS] == others, who
        page.context.clear_cookies()


def test_partner_sees_only_its_own_party(browser_page: Any, factory: Any) -> None:
    # Given a distributor's clerk
    network = build_network(factory)
    page = browser_page
    log_in(page, "acme-distributor")
    # When it opens the parties list
    page.goto("/parties")
    # Then the only party listed is its own
    names = page.locator("#results tbody tr td:first-child").all_inner_texts()
    assert names == ["acme Distribution"]
    # And another party's page does not exist for it
    response = page.goto(f"/parties/{network.hub_id}")
    assert response is not None and response.status == 404
    assert page.locator("[data-code]").get_attribute("data-code") == "not_found"
    response = page.goto(f"/parties/{network.distributor_id}")
    assert response is not None and response.status == 200


def test_chinese_user_sees_chinese_navigation_messages_and_its_time_zone(
    browser_page: Any, factory: Any, engine: Engine, shots: Path
) -> None:
    # Given the administrator (Europe/Berlin, English) and a party created at a known instant
    network = build_network(factory)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE parties SET created_at = :t WHERE id = :id"),
            {"t": datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "id": network.supplier_id},
        )
    page = browser_page
    log_in(page, "acme-admin")
    page.goto(f"/parties/{network.supplier_id}")
    assert page.get_by_test_id("created-at").inner_text() == "Mar 1, 2026, 1:00:00\u202fPM +01:00"
    page.screenshot(path=str(shots / "party-detail-en.png"))

    # When it switches to Simplified Chinese and Asia/Shanghai in its preferences
    page.goto("/preferences")
    page.get_by_label("Language").select_option("zh_Hans")
    page.get_by_label("Time zone").fill("Asia/Shanghai")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/preferences?saved=1")

    # Then the navigation is in Chinese
    nav = page.locator("nav.mainnav a").all_inner_texts()
    assert nav[:8] == ["参与方", "站点", "库位", "产品", "物料清单", "用户", "API 密钥", "审计追踪"]
    assert page.get_by_role("status").inner_text() == "已保存。"

    # And the party's creation time is shown in Shanghai time, in Chinese
    page.goto(f"/parties/{network.supplier_id}")
    assert page.get_by_test_id("created-at").inner_text() == "2026年3月1日 20:00:00 +08:00"

    # And a bad GLN is refused with the API's message in Chinese, keeping the input
    page.goto("/parties/new")
    page.get_by_label("名称").first.fill("华东医疗器械有限公司")
    page.get_by_label("GLN").fill("4098760000001")
    page.get_by_label("经销商").check()
    page.get_by_label("国家").fill("CN")
    page.get_by_label("市场区域").select_option("CN")
    page.get_by_role("button", name="创建").click()
    assert page.locator("#f-gln + small + .field-error, #gln-error").first.inner_text() == (
        "GLN 4098760000001 的校验位错误：应为 8。"
    )
    assert page.get_by_label("GLN").input_value() == "4098760000001"
    assert page.get_by_label("名称").first.input_value() == "华东医疗器械有限公司"
    page.screenshot(path=str(shots / "party-new-validation-zh.png"))

    # And the audit trail shows times in Shanghai time
    page.goto("/audit?entity_type=users")
    first_time = page.locator('td[data-col="occurred_at"]').first.inner_text()
    assert first_time.endswith("+08:00")


def test_screenshots_of_main_pages(browser_page: Any, factory: Any, shots: Path) -> None:
    # Given an administrator
    network = build_network(factory)
    page = browser_page
    page.goto("/login")
    page.screenshot(path=str(shots / "login.png"))
    log_in(page, "acme-admin")
    # When it opens the main pages, they render (and are kept as documentation screenshots)
    for path, name in (
        ("/parties", "parties"),
        (f"/parties/{network.hub_id}", "party-detail"),
        ("/audit", "audit-trail"),
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200
        page.screenshot(path=str(shots / f"{name}.png"))
    page.get_by_role("button", name="Verify chain").click()
    assert page.locator("[data-result]").get_attribute("data-result") == "ok"
