"""The allocation instance: parsed, validated and turned into column arrays.

The JSON format is ``../shared/specs/allocation-instance.md`` (copied into docs/priority.md).
Unknown fields are ignored; a missing required field, a wrong type or a reference to an unknown
id raises :class:`InstanceError` naming the field (``lines[3].gtin``), never a silent default.

The one extension is ``incoming``: expected supply (purchase orders, production) the promise
dates of shortfalls are computed from (see docs/priority.md, "Promise dates").
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from medledger.priority.errors import InstanceError

STORAGE_CLASSES = ("ambient", "cold", "frozen")
LOT_STATUSES = ("released", "quarantine", "on_hold", "rejected", "recalled")
RELEASED = 0  # index of "released" in LOT_STATUSES

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Lane:
    transit_days: int
    cold_chain: bool
    cost: int


@dataclass(frozen=True)
class Incoming:
    """Expected supply of ``quantity`` units of a product at a site from ``available`` on."""

    id: str
    product: int
    site: int
    quantity: int
    available: int  # date ordinal
    expiry: int | None  # date ordinal; None = fresh enough for any line


@dataclass(frozen=True)
class AllocationInstance:
    """An instance in column form. Dates are proleptic ordinals (``date.toordinal()``)."""

    as_of: int
    product_gtins: tuple[str, ...]
    product_storage: IntArray  # index into STORAGE_CLASSES
    product_regions: tuple[frozenset[int], ...]  # authorised region indexes
    site_ids: tuple[str, ...]
    site_storage: tuple[frozenset[int], ...]
    region_names: tuple[str, ...]
    lanes: Mapping[tuple[int, int], Lane]  # (site, region) -> lane
    lot_ids: tuple[str, ...]
    lot_product: IntArray
    lot_site: IntArray
    lot_quantity: IntArray
    lot_expiry: IntArray
    lot_status: IntArray  # index into LOT_STATUSES
    line_ids: tuple[str, ...]
    line_product: IntArray
    line_region: IntArray
    line_quantity: IntArray
    line_min_shelf_life: IntArray
    line_priority: FloatArray
    line_ship_complete: BoolArray
    incoming: tuple[Incoming, ...] | None  # None: the instance has no ``incoming`` key

    @property
    def n_lots(self) -> int:
        return len(self.lot_ids)

    @property
    def n_lines(self) -> int:
        return len(self.line_ids)


def _require(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj or obj[key] is None:
        raise InstanceError(f"{where}.{key}" if where else key, "is required")
    return obj[key]


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InstanceError(where, "must be an object")
    return value


def _list(value: Any, where: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise InstanceError(where, "must be a list")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InstanceError(where, "must be a non-empty string")
    return value


def _count(value: Any, where: str) -> int:
    # bool is an int in Python; JSON true is not a quantity.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InstanceError(where, "must be a non-negative integer")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InstanceError(where, "must be a non-negative number")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise InstanceError(where, "must be a non-negative number")
    return number


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise InstanceError(where, "must be true or false")
    return value


def _date(value: Any, where: str) -> int:
    if not isinstance(value, str) or len(value) != 10:
        raise InstanceError(where, "must be a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value).toordinal()
    except ValueError:
        raise InstanceError(where, "must be a date YYYY-MM-DD") from None


def _choice(value: Any, choices: tuple[str, ...], where: str) -> int:
    if value not in choices:
        raise InstanceError(where, "must be one of " + ", ".join(choices))
    return choices.index(value)


def _ref(value: Any, index: Mapping[str, int], where: str, what: str) -> int:
    key = _string(value, where)
    if key not in index:
        raise InstanceError(where, f"unknown {what} {key!r}")
    return index[key]


def _unique(index: dict[str, int], key: str, where: str) -> None:
    if key in index:
        raise InstanceError(where, f"duplicate id {key!r}")


def parse_instance(document: Any) -> AllocationInstance:
    """Validate an instance document (parsed JSON) and return its column form."""
    root = _object(document, "instance")
    as_of = _date(_require(root, "as_of", ""), "as_of")

    regions: dict[str, int] = {}

    def region(name: Any, where: str) -> int:
        key = _string(name, where)
        return regions.setdefault(key, len(regions))

    products = _list(_require(root, "products", ""), "products")
    gtin_index: dict[str, int] = {}
    product_storage: list[int] = []
    product_regions: list[frozenset[int]] = []
    for n, raw in enumerate(products):
        where = f"products[{n}]"
        product = _object(raw, where)
        gtin = _string(_require(product, "gtin", where), f"{where}.gtin")
        _unique(gtin_index, gtin, f"{where}.gtin")
        gtin_index[gtin] = n
        product_storage.append(
            _choice(_require(product, "storage", where), STORAGE_CLASSES, f"{where}.storage")
        )
        authorised = _list(
            _require(product, "authorized_regions", where), f"{where}.authorized_regions"
        )
        product_regions.append(
            frozenset(
                region(name, f"{where}.authorized_regions[{m}]")
                for m, name in enumerate(authorised)
            )
        )

    sites = _list(_require(root, "sites", ""), "sites")
    site_index: dict[str, int] = {}
    site_storage: list[frozenset[int]] = []
    for n, raw in enumerate(sites):
        where = f"sites[{n}]"
        site = _object(raw, where)
        site_id = _string(_require(site, "id", where), f"{where}.id")
        _unique(site_index, site_id, f"{where}.id")
        site_index[site_id] = n
        classes = _list(_require(site, "storage", where), f"{where}.storage")
        site_storage.append(
            frozenset(
                _choice(value, STORAGE_CLASSES, f"{where}.storage[{m}]")
                for m, value in enumerate(classes)
            )
        )

    lanes: dict[tuple[int, int], Lane] = {}
    for n, raw in enumerate(_list(_require(root, "lanes", ""), "lanes")):
        where = f"lanes[{n}]"
        lane = _object(raw, where)
        site_no = _ref(_require(lane, "site", where), site_index, f"{where}.site", "site")
        region_no = region(_require(lane, "region", where), f"{where}.region")
        if (site_no, region_no) in lanes:
            raise InstanceError(where, "duplicate lane for this site and region")
        lanes[site_no, region_no] = Lane(
            transit_days=_count(_require(lane, "transit_days", where), f"{where}.transit_days"),
            cold_chain=_flag(_require(lane, "cold_chain", where), f"{where}.cold_chain"),
            cost=_count(lane.get("cost", 0), f"{where}.cost"),
        )

    lots = _list(_require(root, "lots", ""), "lots")
    lot_index: dict[str, int] = {}
    lot_columns: list[tuple[int, int, int, int, int]] = []
    for n, raw in enumerate(lots):
        where = f"lots[{n}]"
        lot = _object(raw, where)
        lot_id = _string(_require(lot, "id", where), f"{where}.id")
        _unique(lot_index, lot_id, f"{where}.id")
        lot_index[lot_id] = n
        _string(_require(lot, "lot", where), f"{where}.lot")
        lot_columns.append(
            (
                _ref(_require(lot, "gtin", where), gtin_index, f"{where}.gtin", "gtin"),
                _ref(_require(lot, "site", where), site_index, f"{where}.site", "site"),
                _count(_require(lot, "quantity", where), f"{where}.quantity"),
                _date(_require(lot, "expiry", where), f"{where}.expiry"),
                _choice(_require(lot, "status", where), LOT_STATUSES, f"{where}.status"),
            )
        )

    lines = _list(_require(root, "lines", ""), "lines")
    line_index: dict[str, int] = {}
    line_columns: list[tuple[int, int, int, int, float, bool]] = []
    for n, raw in enumerate(lines):
        where = f"lines[{n}]"
        line = _object(raw, where)
        line_id = _string(_require(line, "id", where), f"{where}.id")
        _unique(line_index, line_id, f"{where}.id")
        line_index[line_id] = n
        line_columns.append(
            (
                _ref(_require(line, "gtin", where), gtin_index, f"{where}.gtin", "gtin"),
                region(_require(line, "region", where), f"{where}.region"),
                _count(_require(line, "quantity", where), f"{where}.quantity"),
                _count(
                    _require(line, "min_shelf_life_days", where), f"{where}.min_shelf_life_days"
                ),
                _number(_require(line, "priority", where), f"{where}.priority"),
                _flag(line.get("ship_complete", False), f"{where}.ship_complete"),
            )
        )

    incoming: tuple[Incoming, ...] | None = None
    if root.get("incoming") is not None:
        receipts: list[Incoming] = []
        receipt_ids: dict[str, int] = {}
        for n, raw in enumerate(_list(root["incoming"], "incoming")):
            where = f"incoming[{n}]"
            receipt = _object(raw, where)
            receipt_id = _string(_require(receipt, "id", where), f"{where}.id")
            _unique(receipt_ids, receipt_id, f"{where}.id")
            receipt_ids[receipt_id] = n
            expiry = receipt.get("expiry")
            receipts.append(
                Incoming(
                    id=receipt_id,
                    product=_ref(
                        _require(receipt, "gtin", where), gtin_index, f"{where}.gtin", "gtin"
                    ),
                    site=_ref(
                        _require(receipt, "site", where), site_index, f"{where}.site", "site"
                    ),
                    quantity=_count(_require(receipt, "quantity", where), f"{where}.quantity"),
                    available=_date(_require(receipt, "available", where), f"{where}.available"),
                    expiry=None if expiry is None else _date(expiry, f"{where}.expiry"),
                )
            )
        incoming = tuple(receipts)

    def column(rows: Sequence[tuple[Any, ...]], at: int, dtype: Any) -> Any:
        return np.fromiter((row[at] for row in rows), dtype=dtype, count=len(rows))

    return AllocationInstance(
        as_of=as_of,
        product_gtins=tuple(gtin_index),
        product_storage=np.asarray(product_storage, dtype=np.int64),
        product_regions=tuple(product_regions),
        site_ids=tuple(site_index),
        site_storage=tuple(site_storage),
        region_names=tuple(regions),
        lanes=lanes,
        lot_ids=tuple(lot_index),
        lot_product=column(lot_columns, 0, np.int64),
        lot_site=column(lot_columns, 1, np.int64),
        lot_quantity=column(lot_columns, 2, np.int64),
        lot_expiry=column(lot_columns, 3, np.int64),
        lot_status=column(lot_columns, 4, np.int64),
        line_ids=tuple(line_index),
        line_product=column(line_columns, 0, np.int64),
        line_region=column(line_columns, 1, np.int64),
        line_quantity=column(line_columns, 2, np.int64),
        line_min_shelf_life=column(line_columns, 3, np.int64),
        line_priority=column(line_columns, 4, np.float64),
        line_ship_complete=column(line_columns, 5, np.bool_),
        incoming=incoming,
    )
