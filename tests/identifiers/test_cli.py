"""``medledger gs1 parse`` through Typer's test runner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from medledger.identifiers.cli import app

GTIN = "09506000134352"
runner = CliRunner()


def test_parse_prints_json() -> None:
    # when a scan is parsed with --format json
    result = runner.invoke(app, ["parse", f"(01){GTIN}(17)250200(10)L1", "--format", "json"])

    # then stdout is the parsed record as JSON
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["gtin"] == GTIN
    assert document["expiry"] == "2025-02-28"
    assert document["udi_pi"] == {"lot": "L1", "expiry": "2025-02-28"}
    assert document["digital_link"] == f"https://id.gs1.org/01/{GTIN}/10/L1?17=250200"


def test_parse_prints_text_and_accepts_an_escaped_group_separator() -> None:
    # given scan data typed in a shell, with \x1d standing for GS
    result = runner.invoke(app, ["parse", f"]d201{GTIN}10L1\\x1d21S9"])

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "format          element_string",
        f"gtin            {GTIN}",
        "lot             L1",
        "serial          S9",
        f"element_string  (01){GTIN}(10)L1(21)S9",
        f"digital_link    https://id.gs1.org/01/{GTIN}/10/L1/21/S9",
        f"(01) GTIN: {GTIN}",
        "(10) BATCH/LOT: L1",
        "(21) SERIAL: S9",
    ]


def test_invalid_data_exits_2_with_the_code_on_stderr() -> None:
    result = runner.invoke(app, ["parse", "0109506000134353"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "gs1.bad_check_digit: The check digit of AI (01) value 09506000134353 is wrong: "
        "expected 2.\n"
    )
