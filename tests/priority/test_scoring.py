"""Priority scoring: rule sets as data, exact explanations, ranking with ties by line order."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medledger.priority.errors import RuleSetError
from medledger.priority.scoring import (
    DEFAULT_RULE_SET,
    OrderLineFacts,
    default_rule_set,
    rank_lines,
    rule_set_from_json,
    score_lines,
)

TIERS = ("strategic", "key", "standard", "occasional")
STOCK = ("available", "scarce", "short")


def facts_of(rows: list[dict[str, object]]) -> OrderLineFacts:
    """Facts of a few lines given as dicts (None = unknown)."""

    def floats(name: str) -> np.ndarray:
        return np.array(
            [np.nan if row.get(name) is None else row[name] for row in rows], dtype=np.float64
        )

    def codes(name: str, vocabulary: tuple[str, ...]) -> np.ndarray:
        return np.array(
            [-1 if row.get(name) is None else vocabulary.index(str(row[name])) for row in rows],
            dtype=np.int8,
        )

    return OrderLineFacts(
        n=len(rows),
        columns={
            "customer_tier": codes("customer_tier", TIERS),
            "penalty_per_day": floats("penalty_per_day"),
            "days_to_surgery": floats("days_to_surgery"),
            "slack_days": floats("slack_days"),
            "line_value": floats("line_value"),
            "regional_cover_weeks": floats("regional_cover_weeks"),
            "stock_status": codes("stock_status", STOCK),
            "transit_days": floats("transit_days"),
            "blocked": np.array([bool(row.get("blocked")) for row in rows]),
            "age_days": floats("age_days"),
        },
        vocabularies={"customer_tier": TIERS, "stock_status": STOCK},
    )


def test_each_factor_contributes_what_its_rule_says() -> None:
    # Given a strategic customer's line: surgery in 8 days, 3 days late, value 999, one week of
    # other stock in the region, scarce product, 5 transit days, not blocked, 40 days old
    facts = facts_of(
        [
            {
                "customer_tier": "strategic",
                "penalty_per_day": math.e**2 - 1,
                "days_to_surgery": 8,
                "slack_days": -3,
                "line_value": 999,
                "regional_cover_weeks": 1,
                "stock_status": "scarce",
                "transit_days": 5,
                "blocked": False,
                "age_days": 40,
            },
            {},  # every fact unknown
        ]
    )
    # When scored with the default rules, with explanations
    scores = score_lines(default_rule_set(), facts, explain=True)
    explained = dict(scores.explain(0))
    # Then each contribution follows its factor's definition
    assert explained["customer_tier"] == 30.0
    assert explained["contract_penalty"] == pytest.approx(8.0)  # 4 × ln(1 + e² − 1), cap 8
    assert explained["clinical_urgency"] == 25.0  # ramp 40 at 2 days → 10 at 14: halfway
    assert explained["due_date_slack"] == 21.5  # ramp 25 at −10 → 20 at 0
    assert explained["order_value"] == pytest.approx(1.5 * math.log(1000))
    assert explained["regional_availability"] == 7.5  # 10 at 0 weeks → 0 at 4
    assert explained["stock_status"] == 5.0
    assert explained["transport_time"] == 3.0
    assert explained["qc_compliance"] == 0.0
    assert explained["order_age"] == 7.5  # 0.5 × min(40, 15)
    # And the unknown line gets the "missing" points (0) for every factor but the flag
    assert [value for _, value in scores.explain(1)] == [0.0] * 10
    assert scores.total[1] == 0.0


def test_blocked_lines_drop_by_the_flag_points() -> None:
    facts = facts_of([{"blocked": True}, {"blocked": False}])
    scores = score_lines(default_rule_set(), facts)
    assert scores.total.tolist() == [-50.0, 0.0]
    assert rank_lines(scores.total).tolist() == [1, 0]


def random_facts(n: int, seed: int) -> OrderLineFacts:
    rng = np.random.default_rng(seed)
    unknown = rng.random(n) < 0.2
    surgery = rng.integers(0, 40, n).astype(np.float64)
    surgery[unknown] = np.nan
    return OrderLineFacts(
        n=n,
        columns={
            "customer_tier": rng.integers(-1, 4, n).astype(np.int8),
            "penalty_per_day": rng.gamma(1.0, 100.0, n),
            "days_to_surgery": surgery,
            "slack_days": rng.integers(-20, 30, n).astype(np.float64),
            "line_value": rng.lognormal(6, 2, n),
            "regional_cover_weeks": rng.exponential(2.0, n),
            "stock_status": rng.integers(-1, 3, n).astype(np.int8),
            "transit_days": rng.integers(0, 15, n).astype(np.float64),
            "blocked": rng.random(n) < 0.1,
            "age_days": rng.integers(-2, 90, n).astype(np.float64),
        },
        vocabularies={"customer_tier": TIERS, "stock_status": STOCK},
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 400), st.integers(0, 2**32 - 1))
def test_every_score_is_exactly_the_sum_of_its_contributions(n: int, seed: int) -> None:
    facts = random_facts(n, seed)
    scores = score_lines(default_rule_set(), facts, explain=True)
    plain = score_lines(default_rule_set(), facts)
    assert np.array_equal(scores.total, plain.total)
    assert scores.total.dtype == np.float32
    for line in range(n):
        total = np.float32(0.0)
        for _, contribution in scores.explain(line):
            total = np.float32(total + np.float32(contribution))
        assert total == scores.total[line]


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.integers(0, 300),
        elements=st.one_of(
            st.sampled_from([0.0, -0.0, 1.0, -1.0, 87.5, 1e-300]),
            st.floats(-1e6, 1e6, allow_nan=False),
        ),
    )
)
def test_rank_is_score_descending_then_line_order(scores: np.ndarray) -> None:
    expected = np.lexsort((np.arange(len(scores)), -(scores + 0.0)))
    assert rank_lines(scores + 0.0).tolist() == expected.tolist()


def test_rank_separates_scores_that_differ_only_in_their_last_bits() -> None:
    # Given two million lines, so the packed key keeps fewer score bits, with near-ties
    base = np.full(2_000_000, 10.0)
    base[5] = np.nextafter(10.0, 11.0)  # a hair above the others
    base[7] = np.nextafter(10.0, 9.0)  # a hair below
    order = rank_lines(base)
    assert order[0] == 5
    assert order[-1] == 7
    assert order[1:4].tolist() == [0, 1, 2]


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        st.integers(0, 300),
        elements=st.one_of(
            st.sampled_from([0.0, 1.0, -1.0, 87.5]),
            st.floats(-1e6, 1e6, allow_nan=False, width=32),
        ),
    )
)
def test_rank_of_float32_scores_is_exact(scores: np.ndarray) -> None:
    scores = scores + np.float32(0.0)
    expected = np.lexsort((np.arange(len(scores)), -scores))
    assert rank_lines(scores).tolist() == expected.tolist()


def test_float32_rank_separates_neighbouring_floats() -> None:
    scores = np.full(1000, 10.0, dtype=np.float32)
    scores[500] = np.nextafter(np.float32(10.0), np.float32(11.0))
    scores[3] = np.nextafter(np.float32(10.0), np.float32(9.0))
    order = rank_lines(scores)
    assert order[0] == 500 and order[-1] == 3 and order[1:4].tolist() == [0, 1, 2]


def test_rule_set_round_trips_as_json_with_a_stable_digest() -> None:
    rules = default_rule_set()
    again = rule_set_from_json(json.loads(json.dumps(rules.to_json())))
    assert again == rules
    assert again.digest() == rules.digest()
    assert len(rules.digest()) == 64
    changed = copy.deepcopy(DEFAULT_RULE_SET)
    changed["factors"][0]["weight"] = 2.0
    assert rule_set_from_json(changed).digest() != rules.digest()
    changed["factors"][0]["weight"] = 1.0
    changed["version"] = 2
    assert rule_set_from_json(changed).digest() != rules.digest()


def test_weights_scale_contributions_and_rules_are_data() -> None:
    # Given a rule set of two factors written as JSON
    rules = rule_set_from_json(
        {
            "name": "tender",
            "version": 3,
            "factors": [
                {"key": "age", "kind": "linear", "column": "age_days", "weight": 2.0, "cap": 5},
                {
                    "key": "tier",
                    "kind": "category",
                    "column": "customer_tier",
                    "weight": 0.5,
                    "points": {"key": 10},
                    "missing": 1,
                },
            ],
        }
    )
    facts = facts_of([{"age_days": 3, "customer_tier": "key"}, {"age_days": 9}])
    scores = score_lines(rules, facts, explain=True)
    assert scores.explain(0) == [("age", 6.0), ("tier", 5.0)]
    assert scores.explain(1) == [("age", 10.0), ("tier", 0.5)]
    assert scores.total.tolist() == [11.0, 10.5]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(version=0), "version"),
        (lambda d: d.update(factors=[]), "factors"),
        (lambda d: d["factors"][1].update(kind="sigmoid"), "factors[1].kind"),
        (lambda d: d["factors"][2].update(breakpoints=[[0, 1]]), "factors[2].breakpoints"),
        (
            lambda d: d["factors"][2].update(breakpoints=[[2, 1], [1, 0]]),
            "factors[2].breakpoints",
        ),
        (lambda d: d["factors"][0].update(points={}), "factors[0].points"),
        (lambda d: d["factors"][8].update(points={"yes": 1}), "factors[8].points"),
        (lambda d: d["factors"][3].update(weight="heavy"), "factors[3].weight"),
        (lambda d: d["factors"][4].update(key="customer_tier"), "factors[4].key"),
    ],
)
def test_malformed_rule_sets_name_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    document = copy.deepcopy(DEFAULT_RULE_SET)
    mutate(document)
    with pytest.raises(RuleSetError) as raised:
        rule_set_from_json(document)
    assert raised.value.field == field
    assert raised.value.errors[0].field == field


def test_a_missing_fact_column_is_named() -> None:
    facts = OrderLineFacts(n=1, columns={"age_days": np.array([1.0])})
    with pytest.raises(RuleSetError) as raised:
        score_lines(default_rule_set(), facts)
    assert raised.value.field == "customer_tier.column"
