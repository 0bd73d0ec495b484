"""A year of demo history (2025) as EPCIS 2.0 events, captured by the parties that did the work.

The physical flow of the demo network, month by month:

1. **suppliers commission component lots** (ObjectEvent ADD, ``commissioning``, ILMD with the
   lot number and expiry in ``cbvmda:``) — one lot per component, plant and month — and **ship
   them to the hub's plant** (``shipping``, quantity lists, one shipment per supplier, plant and
   storage class, purchase order and despatch advice);
2. the **hub receives them** at the plant's goods receipt of the right temperature;
3. the hub **produces** one lot per finished product (TransformationEvent: component lot
   quantities in, the finished lot out — plus 12–20 serials for serial-tracked implants, tied to
   their lot by ILMD), **packs** it into six SSCCs (AggregationEvent ADD) and **ships** them:
   three to a distributor of the CN, EU and US markets, three straight to a hospital;
4. each **consignee receives** its SSCC (captured as that partner), and each **distributor ships
   it onward**, unopened, to one of its hospitals, which receives it.

Deliberate blemishes, so that the trace explorer has something to show:

* in June the hub ships one SSCC of the Glide balloon catheters to the wrong distributor,
  declares that shipment an error the next day and ships it to the right one;
* in December one SSCC of Vela stents sent straight to a US hospital, and one SSCC of Glide
  catheters sent onward by the US distributor, are never received (two ``unreceived_shipment``
  gaps).

Parties write identifiers the way their systems do: suppliers and distributors send EPC URNs,
the hub and hospitals GS1 Digital Link URIs; hospitals send no ``eventID`` (the ledger computes
the CBV event hash), everyone else a name-based UUID. Event times carry the real offset of the
capturing site on that day (summer time included). Nothing depends on today's date, and the only
randomness (lot sizes) comes from a fixed seed, so two seeds give the same events.

:func:`plan_demo_history` builds the documents (pure); :func:`seed_demo_history` captures them
through :func:`medledger.trace.ledger.capture.capture_document`, one unit of work per month,
and fails loudly if any document is rejected.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from medledger.core.errors import DomainError
from medledger.core.principal import Principal, Role, make_principal
from medledger.core.system import system_unit_of_work
from medledger.core.work import work_of
from medledger.identifiers.checkdigit import gs1_check_digit
from medledger.seed.demo import PRODUCT_BY_KEY, DemoNetwork, PartyRef, ProductRef
from medledger.seed.errors import Code
from medledger.trace.ledger.capture import ROLLBACK, STANDARD_CONTEXT, capture_document

YEAR: Final = 2025
MONTHS: Final = tuple(range(1, 13))
RANDOM_SEED: Final = 20250101
DL: Final = "https://id.gs1.org"
CONTEXT: Final = [STANDARD_CONTEXT, {"cbvmda": "urn:epcglobal:cbv:mda:"}]
# Name-based event IDs: the same plan always gives the same IDs.
_EVENT_NAMESPACE: Final = uuid.UUID("6f1d2c4e-8a3b-5c7d-9e0f-2025de3a0001")

# --- what is made where ------------------------------------------------------------------------


@dataclass(frozen=True)
class Production:
    product_key: str
    plant_key: str
    lot_code: str  # the finished lot is <lot_code><yymm>
    units: tuple[int, int]  # units per monthly lot (inclusive range, drawn from the seed)
    biz_step: str
    markets: tuple[str, str, str]  # region of SSCCs 0/3, 1/4 and 2/5


PRODUCTIONS: Final = (
    Production("vela-3018", "plant-suzhou", "VS", (12, 20), "assembling", ("CN", "EU", "US")),
    # The valve is not approved in the US: its third SSCCs go to the EU.
    Production("aortis-23", "plant-suzhou", "AT", (12, 20), "assembling", ("CN", "EU", "EU")),
    Production("strata-3", "plant-suzhou", "SH", (12, 20), "assembling", ("CN", "EU", "US")),
    Production("glide-3015", "plant-suzhou", "GP", (240, 480), "assembling", ("CN", "EU", "US")),
    Production(
        "ctni-reagent", "plant-galway", "TNI", (60, 150), "commissioning", ("CN", "EU", "US")
    ),
    Production("urosoft-14", "plant-galway", "UF", (300, 600), "assembling", ("CN", "EU", "US")),
)
SSCCS_PER_LOT: Final = 6  # 0–2 through a distributor, 3–5 straight to a hospital

SUPPLIER_LOT_PREFIX: Final = {
    "supplier-alloys": "HPA",
    "supplier-polymer": "RPT",
    "supplier-bioreagents": "NBR",
    "supplier-packaging": "KMP",
    "supplier-coatings": "OFC",
    "cmo": "MDT",
}
PLANT_LETTER: Final = {"plant-suzhou": "S", "plant-galway": "G"}
# The extension digit of the SSCCs each plant packs (SSCC = extension, prefix, serial reference).
PLANT_SSCC_EXTENSION: Final = {"plant-suzhou": 1, "plant-galway": 2}

DISTRIBUTORS_BY_MARKET: Final = {
    "CN": ("dist-cn-east", "dist-cn-north"),
    "EU": ("dist-eu-de", "dist-eu-es"),
    "US": ("dist-us",),
}
DISTRIBUTOR_CUSTOMERS: Final = {
    "dist-cn-east": ("hosp-cn-01", "hosp-cn-02", "hosp-cn-07", "hosp-cn-08"),
    "dist-cn-north": ("hosp-cn-03", "hosp-cn-04"),
    "dist-eu-de": ("hosp-eu-01", "hosp-eu-02", "hosp-eu-08", "hosp-eu-10"),
    "dist-eu-es": ("hosp-eu-06", "hosp-eu-03"),
    "dist-us": ("hosp-us-01", "hosp-us-02", "hosp-us-03", "hosp-us-04", "hosp-us-05"),
}
DIRECT_CUSTOMERS: Final = {
    "CN": ("hosp-cn-05", "hosp-cn-06", "hosp-cn-09", "hosp-cn-10"),
    "EU": ("hosp-eu-04", "hosp-eu-05", "hosp-eu-07", "hosp-eu-09"),
    "US": ("hosp-us-06", "hosp-us-07", "hosp-us-08", "hosp-us-09", "hosp-us-10"),
}

# The deliberate blemishes: (product, month, SSCC index).
MISSHIPPED: Final = ("glide-3015", 6, 1)
UNRECEIVED_DIRECT: Final = ("vela-3018", 12, 5)
UNRECEIVED_ONWARD: Final = ("glide-3015", 12, 2)

# Day of the month of each step (local time of the capturing site).
_DAY = {
    "commissioning": 2,
    "supplier_shipping": 3,
    "plant_receiving": 8,
    "production": 12,
    "packing": 13,
    "shipping": 14,
    "correction": 15,
    "receiving": 18,
    "onward_shipping": 22,
    "onward_receiving": 26,
}


# --- identifiers -------------------------------------------------------------------------------


def _split(key: str) -> tuple[str, str]:
    """(company prefix, rest) of a GLN or GTIN body; every demo company prefix has 7 digits."""
    return key[:7], key[7:]


def lgtin_urn(gtin: str, lot: str) -> str:
    """EPC class URN of a lot."""
    return f"urn:epc:class:lgtin:{gtin[1:8]}.{gtin[0]}{gtin[8:13]}.{lot}"


def lot_uri(gtin: str, lot: str) -> str:
    """Digital Link of a lot (the ledger's canonical form)."""
    return f"{DL}/01/{gtin}/10/{lot}"


def serial_uri(gtin: str, serial: str) -> str:
    return f"{DL}/01/{gtin}/21/{serial}"


def sscc_uri(sscc: str) -> str:
    return f"{DL}/00/{sscc}"


def sscc_urn(sscc: str) -> str:
    return f"urn:epc:id:sscc:{sscc[1:8]}.{sscc[0]}{sscc[8:17]}"


def sgln_urn(gln: str) -> str:
    prefix, rest = _split(gln)
    return f"urn:epc:id:sgln:{prefix}.{rest[:5]}.0"


def pgln_urn(gln: str) -> str:
    prefix, rest = _split(gln)
    return f"urn:epc:id:pgln:{prefix}.{rest[:5]}"


def sscc_number(plant_key: str, hub_gln: str, month: int, product_index: int, k: int) -> str:
    """The SSCC of the ``k``-th unit packed of a product in a month (check digit included)."""
    reference = month * 1000 + product_index * 10 + k
    body = f"{PLANT_SSCC_EXTENSION[plant_key]}{hub_gln[:7]}{reference:09d}"
    return body + gs1_check_digit(body)


def finished_lot(production: Production, month: int) -> str:
    return f"{production.lot_code}{YEAR % 100:02d}{month:02d}"


def component_lot(owner_key: str, item_reference: str, plant_key: str, month: int) -> str:
    """Supplier lot number: supplier code, yymm, plant letter, last two digits of the item."""
    prefix = SUPPLIER_LOT_PREFIX[owner_key]
    return f"{prefix}{YEAR % 100:02d}{month:02d}{PLANT_LETTER[plant_key]}{item_reference[-2:]}"


def _item_reference(gtin: str) -> str:
    return gtin[8:13]


# --- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedDocument:
    """One EPCIS document, captured by ``party_key`` (``hub`` captures as warehouse staff)."""

    month: int
    step: str
    party_key: str
    events: tuple[dict[str, Any], ...]

    def document(self) -> dict[str, Any]:
        last = max(event["eventTime"] for event in self.events)
        return {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": last,
            "epcisBody": {"eventList": list(self.events)},
        }


@dataclass(frozen=True)
class Unit:
    """A packed SSCC and where it goes: ``distributor`` (or None) then ``hospital``."""

    sscc: str
    product_key: str
    month: int
    k: int
    hospital: str
    distributor: str | None
    serials: tuple[str, ...] = ()
    quantity: int = 0


@dataclass
class HistoryPlan:
    """The year's documents in capture order, and the identifiers they created (for tests)."""

    documents: list[PlannedDocument] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    lots: dict[tuple[str, int], str] = field(default_factory=dict)  # (product, month) → lot
    serials: dict[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)
    component_lots: dict[tuple[str, str, int], str] = field(default_factory=dict)

    def event_counts(self) -> Counter[tuple[str, str | None]]:
        """(type, bizStep) → number of ledger rows (an error declaration is a row of its own)."""
        counts: Counter[tuple[str, str | None]] = Counter()
        for doc in self.documents:
            for event in doc.events:
                counts[(event["type"], event.get("bizStep"))] += 1
        return counts


def _local_time(time_zone: str, month: int, day: int, minute_of_day: int) -> tuple[str, str]:
    """(eventTime, eventTimeZoneOffset) of a local wall-clock time on a day of the demo year."""
    hour, minute = divmod(minute_of_day, 60)
    moment = datetime(YEAR, month, day, hour, minute, tzinfo=ZoneInfo(time_zone))
    raw = moment.strftime("%z")
    return moment.isoformat(timespec="seconds"), f"{raw[:3]}:{raw[3:]}"


def _when(time_zone: str, month: int, step: str, sequence: int) -> dict[str, str]:
    # Working hours, a few minutes apart per event, so event times are distinct and ordered.
    event_time, offset = _local_time(time_zone, month, _DAY[step], 8 * 60 + 7 * sequence)
    return {"eventTime": event_time, "eventTimeZoneOffset": offset}


def _event_id(*parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(_EVENT_NAMESPACE, '/'.join(map(str, parts)))}"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _quantity(epc_class: str, quantity: Decimal, uom: str) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": epc_class, "quantity": _number(quantity)}
    if uom != "EA":  # a count needs no unit
        element["uom"] = uom
    return element


def _bt(kind: str, issuer_gln: str, reference: str) -> dict[str, str]:
    return {"type": kind, "bizTransaction": f"urn:epcglobal:cbv:bt:{issuer_gln}:{reference}"}


class _Planner:
    def __init__(self, network: DemoNetwork) -> None:
        self.network = network
        self.random = random.Random(RANDOM_SEED)
        self.plan = HistoryPlan()
        self.product_units: dict[tuple[str, int], int] = {}
        self.pending_receipts: dict[str, list[dict[str, Any]]] = {}

    # -- lookups --

    def party(self, key: str) -> PartyRef:
        return self.network.parties[key]

    def product(self, key: str) -> ProductRef:
        return self.network.products[key]

    def site_of(self, party_key: str) -> str:
        return self.network.sites_of(party_key)[0].key

    def tz(self, site_key: str) -> str:
        return self.network.sites[site_key].time_zone

    def gln(self, location_key: str) -> str:
        return self.network.locations[location_key].gln

    def location(self, site_key: str, code: str) -> str:
        return self.gln(f"{site_key}/{code}")

    # -- building --

    def build(self) -> HistoryPlan:
        for month in MONTHS:
            for production in PRODUCTIONS:
                low, high = production.units
                self.product_units[(production.product_key, month)] = self.random.randint(low, high)
            self.month(month)
        return self.plan

    def add(self, month: int, step: str, party_key: str, events: list[dict[str, Any]]) -> None:
        if events:
            self.plan.documents.append(PlannedDocument(month, step, party_key, tuple(events)))

    def consumption(self, month: int) -> dict[tuple[str, str], Decimal]:
        """(component, plant) → quantity the month's production uses."""
        used: dict[tuple[str, str], Decimal] = {}
        for production in PRODUCTIONS:
            units = self.product_units[(production.product_key, month)]
            for line in self.network.boms[production.product_key].lines:
                key = (line.component_key, production.plant_key)
                used[key] = used.get(key, Decimal(0)) + line.quantity_per * units
        return used

    def month(self, month: int) -> None:
        used = self.consumption(month)
        lots = self.supply(month, used)
        self.produce(month, lots)
        units = self.pack_and_ship(month)
        self.deliver(month, units)

    def supply(
        self, month: int, used: dict[tuple[str, str], Decimal]
    ) -> dict[tuple[str, str], tuple[str, Decimal]]:
        """Suppliers commission and ship one lot per component and plant; the hub receives."""
        lots: dict[tuple[str, str], tuple[str, Decimal]] = {}
        by_supplier: dict[str, list[tuple[str, str]]] = {}
        for component_key, plant_key in sorted(used, key=lambda k: (k[1], k[0])):
            owner = self.product(component_key).owner_key
            by_supplier.setdefault(owner, []).append((component_key, plant_key))
        receipts: dict[str, list[dict[str, Any]]] = {}
        for owner in SUPPLIER_LOT_PREFIX:
            if owner not in by_supplier:
                continue
            supplier = self.party(owner)
            site = self.site_of(owner)
            tz = self.tz(site)
            commissioning: list[dict[str, Any]] = []
            shipments: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for sequence, (component_key, plant_key) in enumerate(by_supplier[owner]):
                component = self.product(component_key)
                uom = _uom_of(component)
                # A lot covers the month's use plus 5 %, in whole units (counts) or tenths.
                step = Decimal(1) if uom == "EA" else Decimal("0.1")
                quantity = (used[(component_key, plant_key)] * Decimal("1.05")).quantize(
                    step, rounding=ROUND_CEILING
                )
                lot = component_lot(owner, _item_reference(component.gtin), plant_key, month)
                lots[(component_key, plant_key)] = (lot, quantity)
                self.plan.component_lots[(component_key, plant_key, month)] = lot
                produced = date(YEAR, month, _DAY["commissioning"])
                ilmd: dict[str, Any] = {"cbvmda:lotNumber": lot}
                if component.shelf_life_days:
                    expiry = produced + timedelta(days=component.shelf_life_days)
                    ilmd["cbvmda:itemExpirationDate"] = expiry.isoformat()
                commissioning.append(
                    {
                        "type": "ObjectEvent",
                        "eventID": _event_id("commissioning", lot),
                        **_when(tz, month, "commissioning", sequence),
                        "action": "ADD",
                        "bizStep": "commissioning",
                        "disposition": "active",
                        "epcList": [],
                        "quantityList": [_quantity(lgtin_urn(component.gtin, lot), quantity, uom)],
                        "readPoint": {"id": sgln_urn(self.network.sites[site].gln)},
                        "bizLocation": {"id": sgln_urn(self.network.sites[site].gln)},
                        "ilmd": ilmd,
                    }
                )
                storage = component.storage_class
                shipments.setdefault((plant_key, storage), []).append(
                    _quantity(lgtin_urn(component.gtin, lot), quantity, uom)
                )
            self.add(month, "commissioning", owner, commissioning)
            shipping: list[dict[str, Any]] = []
            for sequence, ((plant_key, storage), quantities) in enumerate(shipments.items()):
                dock = _dock(self.network, site, storage)
                plant = self.network.sites[plant_key]
                hub_gln = self.network.hub.gln
                reference = f"{SUPPLIER_LOT_PREFIX[owner]}-{plant_key[6:].upper()}-{month:02d}"
                transactions = [
                    _bt("po", hub_gln, f"PO-{YEAR}-{reference}"),
                    _bt("desadv", supplier.gln, f"ASN-{YEAR}-{reference}-{storage[:2].upper()}"),
                ]
                sources = [{"type": "owning_party", "source": pgln_urn(supplier.gln)}]
                destinations = [
                    {"type": "owning_party", "destination": pgln_urn(hub_gln)},
                    {"type": "location", "destination": sgln_urn(plant.gln)},
                ]
                ship_id = _event_id("supplier-shipping", owner, plant_key, storage, month)
                shipping.append(
                    {
                        "type": "ObjectEvent",
                        "eventID": ship_id,
                        **_when(tz, month, "supplier_shipping", sequence),
                        "action": "OBSERVE",
                        "bizStep": "shipping",
                        "disposition": "in_transit",
                        "epcList": [],
                        "quantityList": quantities,
                        "readPoint": {"id": sgln_urn(dock)},
                        "bizLocation": {"id": sgln_urn(dock)},
                        "bizTransactionList": transactions,
                        "sourceList": sources,
                        "destinationList": destinations,
                    }
                )
                receiving_dock = _goods_receipt(self.network, plant_key, storage)
                receipts.setdefault(plant_key, []).append(
                    {
                        "type": "ObjectEvent",
                        "eventID": _event_id("plant-receiving", ship_id),
                        **_when(
                            self.tz(plant_key),
                            month,
                            "plant_receiving",
                            len(receipts.get(plant_key, ())),
                        ),
                        "action": "OBSERVE",
                        "bizStep": "receiving",
                        "disposition": "in_progress",
                        "epcList": [],
                        "quantityList": [
                            {**q, "epcClass": _lgtin_to_dl(q["epcClass"])} for q in quantities
                        ],
                        "readPoint": {"id": f"{DL}/414/{receiving_dock}"},
                        "bizLocation": {"id": f"{DL}/414/{receiving_dock}"},
                        "bizTransactionList": transactions,
                        "sourceList": [
                            {"type": "owning_party", "source": f"{DL}/417/{supplier.gln}"}
                        ],
                        "destinationList": [
                            {"type": "owning_party", "destination": f"{DL}/417/{hub_gln}"}
                        ],
                    }
                )
            self.add(month, "supplier_shipping", owner, shipping)
        self.pending_receipts = receipts
        return lots

    def produce(self, month: int, lots: dict[tuple[str, str], tuple[str, Decimal]]) -> None:
        """The hub receives the month's component lots, then makes one lot per product."""
        for receipts in self.pending_receipts.values():
            self.add(month, "plant_receiving", "hub", receipts)
        by_plant: dict[str, list[dict[str, Any]]] = {}
        for production in PRODUCTIONS:
            product = self.product(production.product_key)
            units = self.product_units[(production.product_key, month)]
            lot = finished_lot(production, month)
            self.plan.lots[(production.product_key, month)] = lot
            inputs = [
                _quantity(
                    lot_uri(
                        line.component_gtin, lots[(line.component_key, production.plant_key)][0]
                    ),
                    line.quantity_per * units,
                    line.unit_of_measure,
                )
                for line in self.network.boms[production.product_key].lines
            ]
            made = date(YEAR, month, _DAY["production"])
            ilmd = {
                "cbvmda:lotNumber": lot,
                "cbvmda:itemExpirationDate": (
                    made + timedelta(days=product.shelf_life_days or 0)
                ).isoformat(),
            }
            event: dict[str, Any] = {
                "type": "TransformationEvent",
                "eventID": _event_id("production", production.product_key, lot),
                **_when(
                    self.tz(production.plant_key),
                    month,
                    "production",
                    len(by_plant.get(production.plant_key, ())),
                ),
                "bizStep": production.biz_step,
                "disposition": "active",
                "inputQuantityList": inputs,
                "outputQuantityList": [
                    _quantity(lot_uri(product.gtin, lot), Decimal(units), _uom_of(product))
                ],
                "readPoint": {"id": f"{DL}/414/{self.network.sites[production.plant_key].gln}"},
                "bizLocation": {"id": f"{DL}/414/{self.network.sites[production.plant_key].gln}"},
                "bizTransactionList": [
                    _bt("prodorder", self.network.hub.gln, f"MO-{lot}"),
                ],
                "ilmd": ilmd,
            }
            if product.tracking_level == "serial":
                serials = tuple(f"{lot}-{n:03d}" for n in range(1, units + 1))
                self.plan.serials[(production.product_key, month)] = serials
                event["outputEPCList"] = [serial_uri(product.gtin, s) for s in serials]
            by_plant.setdefault(production.plant_key, []).append(event)
        for events in by_plant.values():
            self.add(month, "production", "hub", events)

    def route(
        self, production: Production, month: int, index: int, k: int
    ) -> tuple[str | None, str]:
        """(distributor or None, hospital) of the ``k``-th SSCC of a product's monthly lot."""
        market = production.markets[k % 3]
        turn = month + index + k
        if k < 3:
            choices = DISTRIBUTORS_BY_MARKET[market]
            distributor = choices[(month + index) % len(choices)]
            customers = DISTRIBUTOR_CUSTOMERS[distributor]
            return distributor, customers[turn % len(customers)]
        direct = DIRECT_CUSTOMERS[market]
        return None, direct[turn % len(direct)]

    def pack_and_ship(self, month: int) -> list[Unit]:
        hub = self.network.hub
        packing: dict[str, list[dict[str, Any]]] = {}
        shipping: dict[str, list[dict[str, Any]]] = {}
        corrections: dict[str, list[dict[str, Any]]] = {}
        units: list[Unit] = []
        for index, production in enumerate(PRODUCTIONS):
            plant_key = production.plant_key
            product = self.product(production.product_key)
            lot = self.plan.lots[(production.product_key, month)]
            serials = self.plan.serials.get((production.product_key, month), ())
            total = self.product_units[(production.product_key, month)]
            chilled = product.storage_class == "chilled_2_8"
            dock = self.location(plant_key, "SHP-C" if chilled else "SHP")
            tz = self.tz(plant_key)
            for k in range(SSCCS_PER_LOT):
                sscc = sscc_number(plant_key, hub.gln, month, index, k)
                distributor, hospital = self.route(production, month, index, k)
                share = serials[k::SSCCS_PER_LOT]
                quantity = total // SSCCS_PER_LOT + (1 if k < total % SSCCS_PER_LOT else 0)
                unit = Unit(
                    sscc,
                    production.product_key,
                    month,
                    k,
                    hospital,
                    distributor,
                    share,
                    quantity if not serials else len(share),
                )
                units.append(unit)
                # Galway's packing line writes EPC URNs for the SSCC, Suzhou's Digital Links.
                parent = sscc_urn(sscc) if plant_key == "plant-galway" else sscc_uri(sscc)
                aggregation: dict[str, Any] = {
                    "type": "AggregationEvent",
                    "eventID": _event_id("packing", sscc),
                    **_when(tz, month, "packing", len(packing.get(plant_key, ()))),
                    "action": "ADD",
                    "bizStep": "packing",
                    "disposition": "in_progress",
                    "parentID": parent,
                    "readPoint": {"id": f"{DL}/414/{dock}"},
                    "bizLocation": {"id": f"{DL}/414/{dock}"},
                }
                if serials:
                    aggregation["childEPCs"] = [serial_uri(product.gtin, s) for s in share]
                else:
                    aggregation["childQuantityList"] = [
                        _quantity(lot_uri(product.gtin, lot), Decimal(quantity), _uom_of(product))
                    ]
                packing.setdefault(plant_key, []).append(aggregation)
                consignee = distributor or hospital
                event = self.hub_shipment(unit, consignee, dock, tz, month, shipping, plant_key)
                if (production.product_key, month, k) == MISSHIPPED:
                    # The right shipment goes out only after the wrong one is corrected.
                    shipping[plant_key].pop()
                    wrong = self.wrong_distributor(production, month, index, consignee)
                    mistake = self.hub_shipment(unit, wrong, dock, tz, month, shipping, plant_key)
                    corrected = {
                        **event,
                        **_when(tz, month, "correction", 1),
                        "eventID": _event_id("hub-shipping-corrected", sscc),
                    }
                    declaration = {
                        **mistake,
                        "errorDeclaration": {
                            "declarationTime": _when(tz, month, "correction", 0)["eventTime"],
                            "reason": "incorrect_data",
                            "correctiveEventIDs": [corrected["eventID"]],
                        },
                    }
                    corrections.setdefault(plant_key, []).extend([declaration, corrected])
        for events in packing.values():
            self.add(month, "packing", "hub", events)
        for events in shipping.values():
            self.add(month, "shipping", "hub", events)
        for events in corrections.values():
            self.add(month, "correction", "hub", events)
        return units

    def wrong_distributor(self, production: Production, month: int, index: int, right: str) -> str:
        market = production.markets[MISSHIPPED[2] % 3]
        return next(d for d in DISTRIBUTORS_BY_MARKET[market] if d != right)

    def hub_shipment(
        self,
        unit: Unit,
        consignee: str,
        dock: str,
        tz: str,
        month: int,
        shipping: dict[str, list[dict[str, Any]]],
        plant_key: str,
    ) -> dict[str, Any]:
        hub = self.network.hub
        party = self.party(consignee)
        site = self.network.sites[self.site_of(consignee)]
        event = {
            "type": "ObjectEvent",
            "eventID": _event_id("hub-shipping", unit.sscc, consignee),
            **_when(tz, month, "shipping", len(shipping.get(plant_key, ()))),
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "epcList": [sscc_uri(unit.sscc)],
            "readPoint": {"id": f"{DL}/414/{dock}"},
            "bizLocation": {"id": f"{DL}/414/{dock}"},
            "bizTransactionList": _order_transactions(hub.gln, party.gln, unit),
            "sourceList": [
                {"type": "owning_party", "source": f"{DL}/417/{hub.gln}"},
                {"type": "location", "source": f"{DL}/414/{self.network.sites[plant_key].gln}"},
            ],
            "destinationList": [
                {"type": "owning_party", "destination": f"{DL}/417/{party.gln}"},
                {"type": "location", "destination": f"{DL}/414/{site.gln}"},
            ],
        }
        shipping.setdefault(plant_key, []).append(event)
        return event

    def deliver(self, month: int, units: list[Unit]) -> None:
        """First receipts, distributors' onward shipments, and hospitals' receipts."""
        hub = self.network.hub
        first: dict[str, list[dict[str, Any]]] = {}
        onward: dict[str, list[dict[str, Any]]] = {}
        second: dict[str, list[dict[str, Any]]] = {}
        for unit in units:
            key = (unit.product_key, unit.month, unit.k)
            consignee = unit.distributor or unit.hospital
            if key != UNRECEIVED_DIRECT:
                first.setdefault(consignee, []).append(
                    self.receipt(unit, consignee, hub.gln, month, "receiving", first)
                )
            if unit.distributor is None:
                continue
            distributor = self.party(unit.distributor)
            site = self.site_of(unit.distributor)
            hospital = self.party(unit.hospital)
            hospital_site = self.network.sites[self.site_of(unit.hospital)]
            dock = self.location(site, "SHP")
            onward.setdefault(unit.distributor, []).append(
                {
                    "type": "ObjectEvent",
                    "eventID": _event_id("onward-shipping", unit.sscc, unit.hospital),
                    **_when(
                        self.tz(site),
                        month,
                        "onward_shipping",
                        len(onward.get(unit.distributor, ())),
                    ),
                    "action": "OBSERVE",
                    "bizStep": "shipping",
                    "disposition": "in_transit",
                    "epcList": [sscc_urn(unit.sscc)],
                    "readPoint": {"id": sgln_urn(dock)},
                    "bizLocation": {"id": sgln_urn(dock)},
                    "bizTransactionList": _order_transactions(distributor.gln, hospital.gln, unit),
                    "sourceList": [{"type": "owning_party", "source": pgln_urn(distributor.gln)}],
                    "destinationList": [
                        {"type": "owning_party", "destination": pgln_urn(hospital.gln)},
                        {"type": "location", "destination": sgln_urn(hospital_site.gln)},
                    ],
                }
            )
            if key != UNRECEIVED_ONWARD:
                second.setdefault(unit.hospital, []).append(
                    self.receipt(
                        unit, unit.hospital, distributor.gln, month, "onward_receiving", second
                    )
                )
        for party_key in sorted(first, key=self._party_order):
            self.add(month, "receiving", party_key, first[party_key])
        for party_key in sorted(onward, key=self._party_order):
            self.add(month, "onward_shipping", party_key, onward[party_key])
        for party_key in sorted(second, key=self._party_order):
            self.add(month, "onward_receiving", party_key, second[party_key])

    def _party_order(self, key: str) -> int:
        return self.party(key).id

    def receipt(
        self,
        unit: Unit,
        receiver_key: str,
        sender_gln: str,
        month: int,
        step: str,
        sofar: dict[str, list[dict[str, Any]]],
    ) -> dict[str, Any]:
        receiver = self.party(receiver_key)
        site = self.site_of(receiver_key)
        dock = self.location(site, "RCV")
        hospital = "hospital" in receiver.roles
        event: dict[str, Any] = {
            "type": "ObjectEvent",
            **_when(self.tz(site), month, step, len(sofar.get(receiver_key, ()))),
            "action": "OBSERVE",
            "bizStep": "receiving",
            "disposition": "in_progress",
        }
        if hospital:
            # Hospital systems send Digital Links and leave the event ID to the ledger's hash.
            event |= {
                "epcList": [sscc_uri(unit.sscc)],
                "readPoint": {"id": f"{DL}/414/{dock}"},
                "bizLocation": {"id": f"{DL}/414/{dock}"},
                "sourceList": [{"type": "owning_party", "source": f"{DL}/417/{sender_gln}"}],
                "destinationList": [
                    {"type": "owning_party", "destination": f"{DL}/417/{receiver.gln}"}
                ],
            }
        else:
            event |= {
                "eventID": _event_id("receiving", unit.sscc, receiver_key),
                "epcList": [sscc_urn(unit.sscc)],
                "readPoint": {"id": sgln_urn(dock)},
                "bizLocation": {"id": sgln_urn(dock)},
                "sourceList": [{"type": "owning_party", "source": pgln_urn(sender_gln)}],
                "destinationList": [
                    {"type": "owning_party", "destination": pgln_urn(receiver.gln)}
                ],
            }
        return event


def _order_transactions(seller_gln: str, buyer_gln: str, unit: Unit) -> list[dict[str, str]]:
    reference = f"{YEAR}{unit.month:02d}-{unit.sscc[-6:-1]}"
    return [_bt("po", buyer_gln, f"PO-{reference}"), _bt("desadv", seller_gln, f"DA-{reference}")]


def _lgtin_to_dl(urn: str) -> str:
    body = urn.removeprefix("urn:epc:class:lgtin:")
    prefix, item, lot = body.split(".", 2)
    gtin_body = f"{item[0]}{prefix}{item[1:]}"
    return lot_uri(gtin_body + gs1_check_digit(gtin_body), lot)


def _uom_of(product: ProductRef) -> str:
    return PRODUCT_BY_KEY[product.key].unit_of_measure


def _dock(network: DemoNetwork, site_key: str, storage: str) -> str:
    """The supplier's shipping dock for a storage class (the ambient one when it has none)."""
    suffix = {"chilled_2_8": "SHP-C", "frozen": "SHP-F"}.get(storage, "SHP")
    location = network.locations.get(f"{site_key}/{suffix}") or network.locations[f"{site_key}/SHP"]
    return location.gln


def _goods_receipt(network: DemoNetwork, plant_key: str, storage: str) -> str:
    """The plant's goods receipt for a storage class (the ambient one when it has none)."""
    suffix = {"chilled_2_8": "RCV-C", "frozen": "RCV-F"}.get(storage, "RCV")
    location = (
        network.locations.get(f"{plant_key}/{suffix}") or network.locations[f"{plant_key}/RCV"]
    )
    return location.gln


def plan_demo_history(network: DemoNetwork) -> HistoryPlan:
    """The year's EPCIS documents in capture order (pure: no database, same plan every time)."""
    return _Planner(network).build()


# --- capture -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistorySummary:
    """What :func:`seed_demo_history` captured: documents (capture jobs) and events."""

    documents: int
    events: int


def _principal(network: DemoNetwork, party_key: str) -> Principal:
    party = network.parties[party_key]
    is_hub = party_key == network.hub.key
    return make_principal(
        user_id=None,
        tenant_id=network.tenant_id,
        party_id=party.id,
        role=Role.WAREHOUSE if is_hub else Role.PARTNER_USER,
        username="seed",
        display_name=f"{party.name} (demo history)",
        hub_party_id=network.hub.id,
        time_zone=party.time_zone,
    )


def _by_month(documents: list[PlannedDocument]) -> Iterator[list[PlannedDocument]]:
    for month in MONTHS:
        yield [doc for doc in documents if doc.month == month]


def seed_demo_history(factory: sessionmaker[Session], network: DemoNetwork) -> HistorySummary:
    """Capture the demo year's EPCIS history, each document as the party that recorded it.

    One unit of work per month; every document is captured with ``rollback`` error behaviour
    and must succeed (a rejected document raises ``DomainError``
    ``seed.history_capture_failed`` with the job's errors, and that month is rolled back).
    Each capture writes its ``epcis.capture`` audit entry, attributed to that party.
    """
    plan = plan_demo_history(network)
    principals = {key: _principal(network, key) for key in network.parties}
    documents = events = 0
    for month_documents in _by_month(plan.documents):
        with system_unit_of_work(factory, label="seed") as session:
            for planned in month_documents:
                principal = principals[planned.party_key]
                work_of(session).act_as(principal)
                job = capture_document(
                    session, principal, planned.document(), error_behaviour=ROLLBACK
                )
                if job.state != "succeeded" or job.captured_count != len(planned.events):
                    raise DomainError(
                        "The demo history document {step} of {party} (month {month}) was "
                        "rejected: {errors}",
                        code=Code.HISTORY_CAPTURE_FAILED,
                        params={
                            "step": planned.step,
                            "party": planned.party_key,
                            "month": planned.month,
                            "errors": job.errors[:5],
                            "captured": job.captured_count,
                        },
                    )
                documents += 1
                events += job.captured_count
    return HistorySummary(documents, events)
