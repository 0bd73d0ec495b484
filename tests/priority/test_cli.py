"""``medledger allocate``: round trips on the example instances, exit codes on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medledger.cli import app

INSTANCES = Path(__file__).parent / "instances"
runner = CliRunner()


def run(instance: Path, output: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["allocate", "--instance", str(instance), "--output", str(output), *extra]
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("name", ["spec_example", "scarcity", "ship_complete"])
@pytest.mark.parametrize("solver", ["exact", "auto"])
def test_allocate_writes_the_expected_result(name: str, solver: str, tmp_path: Path) -> None:
    # Given an example instance and its reviewed result
    expected = json.loads((INSTANCES / f"{name}.result.json").read_text())
    # When it is allocated from the command line
    code, output = run(INSTANCES / f"{name}.json", tmp_path / "out.json", "--solver", solver)
    # Then the result file is exactly the reviewed one
    assert code == 0, output
    assert json.loads((tmp_path / "out.json").read_text()) == expected


def test_spec_example_gives_the_spec_result(tmp_path: Path) -> None:
    code, _ = run(INSTANCES / "spec_example.json", tmp_path / "out.json")
    assert code == 0
    assert json.loads((tmp_path / "out.json").read_text()) == {
        "solver": "exact",
        "assignments": [{"line": "SO-1/1", "lot": "L-1", "quantity": 40}],
        "lines": [{"id": "SO-1/1", "allocated": 40, "shortfall": 0, "reasons": []}],
        "objective": {"priority_weighted_units": 3500.0, "units": 40},
    }


def test_greedy_agrees_where_it_is_optimal_and_loses_on_ship_complete(tmp_path: Path) -> None:
    code, _ = run(INSTANCES / "scarcity.json", tmp_path / "g.json", "--solver", "greedy")
    assert code == 0
    greedy = json.loads((tmp_path / "g.json").read_text())
    expected = json.loads((INSTANCES / "scarcity.result.json").read_text())
    assert greedy == {**expected, "solver": "greedy"}

    code, _ = run(INSTANCES / "ship_complete.json", tmp_path / "s.json", "--solver", "greedy")
    assert code == 0
    greedy = json.loads((tmp_path / "s.json").read_text())
    assert greedy["assignments"] == [
        {"line": "A", "lot": "K-1", "quantity": 4},
        {"line": "A", "lot": "K-2", "quantity": 2},
    ]
    assert greedy["objective"] == {"priority_weighted_units": 30.0, "units": 6}
    assert [line["reasons"] for line in greedy["lines"]] == [
        [],
        ["outranked", "ship_complete_unmet"],
        ["outranked", "ship_complete_unmet"],
    ]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("as_of"), "as_of: is required"),
        (lambda d: d["lines"][0].pop("priority"), "lines[0].priority: is required"),
        (lambda d: d["lots"][0].update(gtin="0000"), "lots[0].gtin: unknown gtin '0000'"),
        (lambda d: d["lanes"][0].update(site="NOPE"), "lanes[0].site: unknown site 'NOPE'"),
        (
            lambda d: d["lots"][0].update(status="held"),
            "lots[0].status: must be one of released, quarantine, on_hold, rejected, recalled",
        ),
        (lambda d: d["lots"][0].update(expiry="2027-02-30"), "lots[0].expiry: must be a date"),
        (
            lambda d: d["lines"][0].update(quantity=-1),
            "lines[0].quantity: must be a non-negative integer",
        ),
        (
            lambda d: d["lines"][0].update(quantity=2.5),
            "lines[0].quantity: must be a non-negative integer",
        ),
        (
            lambda d: d["lines"][0].update(priority="high"),
            "lines[0].priority: must be a non-negative number",
        ),
        (lambda d: d["lots"].append(dict(d["lots"][0])), "lots[1].id: duplicate id 'L-1'"),
        (
            lambda d: d["products"][0].update(storage="warm"),
            "products[0].storage: must be one of ambient, cold, frozen",
        ),
    ],
)
def test_bad_instances_exit_2_naming_the_field(mutate, message: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Given the spec example broken in one field
    document = json.loads((INSTANCES / "spec_example.json").read_text())
    mutate(document)
    broken = tmp_path / "in.json"
    broken.write_text(json.dumps(document))
    # When allocated, then exit code 2, the field named, and no output written
    code, output = run(broken, tmp_path / "out.json")
    assert code == 2
    assert message in output
    assert not (tmp_path / "out.json").exists()


def test_unreadable_or_malformed_input_and_bad_solver_exit_2(tmp_path: Path) -> None:
    code, output = run(tmp_path / "missing.json", tmp_path / "out.json")
    assert code == 2 and "--instance: cannot read" in output
    (tmp_path / "bad.json").write_text("{")
    code, output = run(tmp_path / "bad.json", tmp_path / "out.json")
    assert code == 2 and "--instance: not valid JSON" in output
    code, output = run(INSTANCES / "spec_example.json", tmp_path / "out.json", "--solver", "lp")
    assert code == 2 and "--solver: must be one of exact, greedy, auto" in output
    assert not (tmp_path / "out.json").exists()


def test_exact_gives_up_beyond_its_search_limit_and_auto_falls_back(tmp_path: Path) -> None:
    # Given 30 ship-complete lines of 7-11 units competing for one lot of 101
    instance = INSTANCES / "many_ship_complete.json"
    # When the exact solver is demanded, then it refuses with exit code 1
    code, output = run(instance, tmp_path / "out.json", "--solver", "exact")
    assert code == 1
    assert "exact_solver_unavailable" in output
    assert not (tmp_path / "out.json").exists()
    # And auto answers with the greedy, every line all or nothing
    code, _ = run(instance, tmp_path / "out.json", "--solver", "auto")
    assert code == 0
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["solver"] == "greedy"
    # (greedy by priority: N0..N10 take 7+8+9+10+11+7+8+9+10+11+7 = 97 units; 4 are left,
    # too few for any remaining line of 7 to 11)
    served = [line["id"] for line in result["lines"] if line["allocated"]]
    assert served == [f"N{i}" for i in range(11)]
    assert all(line["shortfall"] == 0 for line in result["lines"] if line["allocated"])
    assert result["objective"]["units"] == 97
