"""Translations: every message of the code and templates is in Chinese; the API speaks it too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from medledger.core.system import system_unit_of_work
from medledger.parties.models import User
from tests.builders import build_network, gln, token_headers

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src" / "medledger" / "locale" / "zh_Hans" / "LC_MESSAGES" / "messages.po"


def _extracted() -> set[str]:
    """Every msgid `pybabel extract -F babel.cfg` finds in the sources."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(ROOT / "babel.cfg"))
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map
        )
    }


def _catalogue() -> dict[str, str]:
    """msgid -> translation; a plural entry is keyed by its singular, and counts as translated
    only when every plural form is."""
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans")
    result: dict[str, str] = {}
    for m in catalog:
        if not m.id:
            continue
        if isinstance(m.id, str):
            result[m.id] = str(m.string)
        else:
            forms = list(m.string)
            result[m.id[0]] = forms[0] if all(f.strip() for f in forms) else ""
    return result


def test_every_label_shown_to_users_has_a_chinese_translation() -> None:
    # Given every table of names the pages show for stored codes (roles, statuses, CBV business
    # steps and dispositions, event types, audit actions, field names …)
    from medledger.web import labels

    tables = {
        name: value
        for name, value in vars(labels).items()
        if name.endswith("_LABELS") and isinstance(value, dict)
    }
    assert {
        "BIZ_STEP_LABELS",
        "DISPOSITION_LABELS",
        "EVENT_TYPE_LABELS",
        "AUDIT_ACTION_LABELS",
    } <= set(tables)
    catalogue = _catalogue()
    # Then each name has a Chinese translation (codes stay codes; their names are translated)
    missing = sorted(
        f"{name}[{code}]"
        for name, table in tables.items()
        for code, msgid in table.items()
        if not catalogue.get(msgid, "").strip()
    )
    assert missing == []
    # And the CBV vocabulary is complete: every standard business step and disposition
    from medledger.trace.epcis.vocabulary import BIZ_STEP, DISPOSITION

    assert set(labels.BIZ_STEP_LABELS) == set(BIZ_STEP.terms)
    assert set(labels.DISPOSITION_LABELS) == set(DISPOSITION.terms)


def test_list_counts_use_the_plural_forms_of_the_language() -> None:
    from medledger.core.i18n import ngettext

    assert ngettext("en", "{n} party", "{n} parties", 1).format(n=1) == "1 party"
    assert ngettext("en", "{n} party", "{n} parties", 3).format(n=3) == "3 parties"
    assert ngettext("zh_Hans", "{n} party", "{n} parties", 3).format(n=3) == "3 个参与方"
    assert ("{n} party", "{n} parties") in _extracted_plurals()


def _extracted_plurals() -> set[tuple[str, str]]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(ROOT / "babel.cfg"))
    return {
        tuple(message)
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map
        )
        if not isinstance(message, str)
    }


def test_every_extracted_message_has_a_chinese_translation() -> None:
    extracted = _extracted()
    catalogue = _catalogue()
    assert len(extracted) > 250  # the extractor sees the code's errors and the templates
    assert {
        "This field is required.",
        "Parties",
        "Wrong username or password.",
        "The check digit of {kind} {value} is wrong: expected {expected}.",
    } <= extracted
    missing = sorted(m for m in extracted if not catalogue.get(m, "").strip())
    assert missing == [], "run the `messages` command of docs/i18n.md and translate these"


def test_translations_keep_every_placeholder() -> None:
    for msgid, msgstr in _catalogue().items():
        if msgstr:
            assert set(re.findall(r"{(\w+)}", msgstr)) == set(re.findall(r"{(\w+)}", msgid)), msgid


BAD_PARTY = {
    "name": "Shanghai Medical Supply",
    "gln": "4098760000001",
    "roles": ["distributor"],
    "country": "CN",
    "region": "CN",
}


def test_api_answers_in_chinese_for_a_chinese_browser(client: TestClient, factory: Any) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-admin")
    english = client.post("/api/v1/parties", headers=headers, json=BAD_PARTY)
    chinese = client.post(
        "/api/v1/parties", headers={**headers, "Accept-Language": "zh-CN"}, json=BAD_PARTY
    )
    assert english.status_code == chinese.status_code == 422
    assert english.json()["code"] == chinese.json()["code"] == "validation_failed"
    assert chinese.json()["detail"] == "请求中有无效字段。"
    assert chinese.json()["title"] == "请求中有无效字段"
    assert chinese.json()["errors"] == [
        {
            "field": "gln",
            "code": "gs1.bad_check_digit",
            "message": "GLN 4098760000001 的校验位错误：应为 8。",
        }
    ]
    assert english.json()["errors"] == [
        {
            "field": "gln",
            "code": "gs1.bad_check_digit",
            "message": "The check digit of GLN 4098760000001 is wrong: expected 8.",
        }
    ]


def test_api_answers_in_the_users_own_language(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    with system_unit_of_work(factory) as session:
        user = session.get(User, network.users["admin"])
        assert user is not None
        user.locale = "zh_Hans"
    headers = token_headers(client, "acme-admin")
    response = client.post(
        "/api/v1/parties",
        headers={**headers, "Accept-Language": "en"},
        json={**BAD_PARTY, "gln": gln(20), "region": "XX"},
    )
    body = response.json()
    assert response.status_code == 422
    assert body["code"] == "validation_failed"
    assert body["detail"] == "请求中有无效字段。"
    assert {e["field"]: (e["code"], e["message"]) for e in body["errors"]} == {
        "region": ("region.unknown", "未知的市场区域 XX。")
    }
    created = client.post("/api/v1/parties", headers=headers, json={**BAD_PARTY, "gln": gln(20)})
    assert created.status_code == 201
    again = client.post("/api/v1/parties", headers=headers, json={**BAD_PARTY, "gln": gln(20)})
    assert again.status_code == 409
    assert (again.json()["code"], again.json()["detail"]) == (
        "party.gln_taken",
        f"GLN {gln(20)} 已被其他参与方使用。",
    )
