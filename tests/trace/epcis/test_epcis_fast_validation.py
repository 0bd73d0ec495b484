"""The compiled schema check (capture's fast path) never accepts what the full validator rejects.

``schema_valid_fast`` answers yes/no; a "no" sends the payload to the full jsonschema
validator for the exact error list, so the only thing that must never happen is a "yes" where
the full validator finds an error. Checked on every OpenEPCIS capture and query document, on
each of their events alone, and on thousands of mutations of those events (a field removed,
a field given a value of another type).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest

from medledger.trace.epcis.timestamps import is_timestamp
from medledger.trace.epcis.validation import (
    _STANDARD_EVENT_TYPES,
    _compile,
    _document_validator,
    _event_validator,
    _fast_definition,
    _fast_schema,
    _no_remote_schemas,
    fast_event_valid,
    schema_valid_fast,
)

OPENEPCIS = Path(__file__).parents[2] / "vectors/epcis/openepcis-test-resources/2.0/EPCIS/JSON"
DOCUMENTS = sorted(OPENEPCIS.rglob("*.json"))
SCHEMA_INVALID_AMONG_VALID = {"SensorData_with_combined_events.json"}
_REPLACEMENTS: tuple[Any, ...] = (None, 42, 1.5, True, "x", "2026-13-01T00:00:00Z", [], {}, ["x"])


def _load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _events(document: Any) -> list[Any]:
    if not isinstance(document, dict):
        return []
    body = document.get("epcisBody")
    if not isinstance(body, dict):
        return [document] if "type" in document else []
    events = body.get("eventList")
    if events is None:
        events = ((body.get("queryResults") or {}).get("resultsBody") or {}).get("eventList")
    return list(events or [])


def _full_document_valid(document: Any) -> bool:
    return not any(True for _ in _document_validator().iter_errors(document))


def _full_event_valid(event: Any) -> bool:
    return not any(True for _ in _event_validator().iter_errors(event))


def _mutations(event: dict[str, Any]) -> list[Any]:
    variants: list[Any] = []
    for key, value in event.items():
        variants.append({k: v for k, v in event.items() if k != key})
        variants.extend({**event, key: other} for other in _REPLACEMENTS if other != value)
        if isinstance(value, list) and value:
            variants.append({**event, key: [*value, value[0]]})  # duplicate item
            variants.append({**event, key: [*value, 42]})
        if isinstance(value, dict):
            for inner in value:
                variants.append({**event, key: {k: v for k, v in value.items() if k != inner}})
                variants.append({**event, key: {**value, inner: 42}})
    return variants


def test_the_documents_are_there() -> None:
    assert len(DOCUMENTS) > 50


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(OPENEPCIS)) for p in DOCUMENTS])
def test_fast_check_agrees_with_the_full_validator_on_the_document(path: Path) -> None:
    document = _load(path)

    fast = schema_valid_fast(document)
    full = _full_document_valid(document)

    assert not (fast and not full)
    if full:
        # Valid documents take the fast path (else capture would be slow for no reason).
        assert fast


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(OPENEPCIS)) for p in DOCUMENTS])
def test_fast_check_never_accepts_a_mutated_event_the_full_validator_rejects(path: Path) -> None:
    lenient: list[Any] = []
    for event in _events(_load(path)):
        if not isinstance(event, dict):
            continue
        for variant in [event, *_mutations(copy.deepcopy(event))]:
            if fast_event_valid(variant) and not _full_event_valid(variant):
                lenient.append(variant)

    assert lenient == []


def _stock_compile(schema: dict[str, Any]) -> Any:
    """fastjsonschema's own compilation of ``schema``, value names and all."""
    return fastjsonschema.compile(
        schema,
        handlers={"http": _no_remote_schemas, "https": _no_remote_schemas},
        formats={"date-time": is_timestamp},
        use_default=False,
        detailed_exceptions=False,
    )


def _accepts(check: Any, instance: Any) -> bool:
    try:
        check(instance)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def test_the_check_without_value_names_answers_like_fastjsonschemas_own_code() -> None:
    # The compiled source is rewritten (value names replaced by a constant); its yes/no must
    # be the stock compilation's on every document, event and mutated event, valid or not.
    names = ["EPCIS-Document-Event", *_STANDARD_EVENT_TYPES]
    pairs = [(_compile(_fast_schema()), _stock_compile(_fast_schema()))] + [
        (_compile(_fast_definition(name)), _stock_compile(_fast_definition(name))) for name in names
    ]
    answers: list[bool] = []
    disagreements: list[Any] = []
    for path in DOCUMENTS:
        document = _load(path)
        instances = [document]
        for event in _events(document):
            if isinstance(event, dict):
                instances.extend([event, *_mutations(copy.deepcopy(event))])
        for instance in instances:
            for rewritten, stock in pairs:
                answer = _accepts(rewritten, instance)
                answers.append(answer)
                if answer != _accepts(stock, instance):
                    disagreements.append(instance)

    assert disagreements == []
    assert True in answers and False in answers
