"""The request guard's cost on an EPCIS capture body: ``core.bodies.parse_json`` (parse, depth,
non-finite numbers, control characters) next to a bare ``json.loads`` of the same bytes.

    .venv/bin/python bench/bench_guard.py --events 20000

Both run on the same document in the same process, alternately, best of ``--rounds``; the
ratio is what the guard adds to reading a capture body (the capture itself, validation,
hashing and the database, comes on top of both).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from medledger.core.bodies import parse_json


def _document(events: int) -> bytes:
    event_list = [
        {
            "type": "ObjectEvent",
            "eventID": f"urn:uuid:6d1c1f3a-0000-4000-8000-{n:012d}",
            "eventTime": "2026-03-02T08:00:00Z",
            "eventTimeZoneOffset": "+01:00",
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "epcList": [f"https://id.gs1.org/01/04098760000107/21/S{n}"],
            "quantityList": [
                {"epcClass": "urn:epc:class:lgtin:4098760.000010.L1", "quantity": 2.5, "uom": "KGM"}
            ],
            "readPoint": {"id": "urn:epc:id:sgln:4098760.00001.0"},
            "ilmd": {"cbvmda:lotNumber": f"批次{n}", "cbvmda:itemExpirationDate": "2028-12-31"},
        }
        for n in range(events)
    ]
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-02T07:00:00Z",
        "epcisBody": {"eventList": event_list},
    }
    return json.dumps(document).encode()


def _best(function: Callable[[], Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    raw = _document(args.events)
    assert parse_json(raw) == json.loads(raw)
    baseline = guarded = float("inf")
    for _ in range(args.rounds):
        baseline = min(baseline, _best(lambda: json.loads(raw), 1))
        guarded = min(guarded, _best(lambda: parse_json(raw), 1))
    print(f"capture body: {args.events} events, {len(raw) / 1e6:.1f} MB")
    print(f"  json.loads (baseline)  {baseline * 1000:8.1f} ms")
    print(f"  parse_json (guard)     {guarded * 1000:8.1f} ms   ratio {guarded / baseline:.2f}x")


if __name__ == "__main__":
    main()
