"""Why a line is short, and when incoming supply could fill it.

Reasons (in this order, as in the spec): ``out_of_stock``, ``not_released``, ``short_dated``,
``no_cold_chain_lane``, ``not_authorized_in_region``, ``no_lane``, ``outranked``,
``ship_complete_unmet``. See docs/priority.md for the exact rule of each.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from medledger.priority.eligibility import Eligibility, lane_usable, site_stores
from medledger.priority.greedy import Allocation
from medledger.priority.instance import RELEASED, AllocationInstance, IntArray

REASONS = (
    "out_of_stock",
    "not_released",
    "short_dated",
    "no_cold_chain_lane",
    "not_authorized_in_region",
    "no_lane",
    "outranked",
    "ship_complete_unmet",
)


def _blocked_by(instance: AllocationInstance, lot: int, region: int, shelf: int) -> str | None:
    """The first eligibility rule lot ``lot`` fails for a line of ``region``/``shelf``."""
    if int(instance.lot_status[lot]) != RELEASED:
        return "not_released"
    product, site = int(instance.lot_product[lot]), int(instance.lot_site[lot])
    if (site, region) not in instance.lanes:
        return "no_lane"
    if not site_stores(instance, site, product) or not lane_usable(instance, site, region, product):
        return "no_cold_chain_lane"
    transit = instance.lanes[site, region].transit_days
    if int(instance.lot_expiry[lot]) - instance.as_of - transit < shelf:
        return "short_dated"
    return None


def shortfall_reasons(
    instance: AllocationInstance, eligibility: Eligibility, allocation: Allocation
) -> list[list[str]]:
    """The reasons of every line (empty for lines filled in full)."""
    allocated = allocation.units_per_line(instance.n_lines)
    used = allocation.units_per_lot(instance.n_lots)
    product_total = np.bincount(
        instance.lot_product, instance.lot_quantity, minlength=len(instance.product_gtins)
    )
    lots_of_product: dict[int, IntArray] = {}
    stocked = np.flatnonzero(instance.lot_quantity > 0)
    for product in np.unique(instance.lot_product[stocked]).tolist():
        lots_of_product[product] = stocked[instance.lot_product[stocked] == product]

    class_cache: dict[int, tuple[set[str], IntArray]] = {}

    def class_facts(class_no: int) -> tuple[set[str], IntArray]:
        cached = class_cache.get(class_no)
        if cached is None:
            product = int(eligibility.class_product[class_no])
            region = int(eligibility.class_region[class_no])
            shelf = int(eligibility.class_shelf[class_no])
            blocked: set[str] = set()
            if not eligibility.class_authorised[class_no]:
                blocked.add("not_authorized_in_region")
            for lot in lots_of_product.get(product, np.zeros(0, np.int64)).tolist():
                reason = _blocked_by(instance, lot, region, shelf)
                if reason is not None:
                    blocked.add(reason)
            eligible, _ = eligibility.class_candidates(class_no)
            cached = (blocked, eligible)
            class_cache[class_no] = cached
        return cached

    reasons: list[list[str]] = []
    for line in range(instance.n_lines):
        quantity = int(instance.line_quantity[line])
        got = int(allocated[line])
        if got >= quantity:
            reasons.append([])
            continue
        class_no = int(eligibility.line_class[line])
        blocked, eligible = class_facts(class_no)
        found = set(blocked)
        if "not_authorized_in_region" in found:
            found = {"not_authorized_in_region"}
        else:
            if product_total[int(instance.line_product[line])] < quantity:
                found.add("out_of_stock")
            if len(eligible):
                to_others = int(used[eligible].sum()) - got
                free = int((instance.lot_quantity[eligible] - used[eligible]).sum())
                if to_others > 0:
                    found.add("outranked")
                if bool(instance.line_ship_complete[line]) and got == 0:
                    # Some eligible stock exists, but not the whole line's worth for it.
                    found.add("ship_complete_unmet")
                if free > 0 and "ship_complete_unmet" not in found:
                    # Eligible stock left unused: only a line of priority 0 is left so.
                    found.add("outranked")
            if not found:
                found.add("out_of_stock")
        reasons.append([reason for reason in REASONS if reason in found])
    return reasons


def promise_dates(
    instance: AllocationInstance, eligibility: Eligibility, allocation: Allocation
) -> list[str | None]:
    """Earliest delivery date incoming supply can fill each shortfall by (None: it cannot).

    Short lines are taken by (priority descending, input order); each reserves the incoming
    receipts it may use (same rules as lots, the receipt's site, its ``available`` date plus the
    lane's transit days, its expiry if given) in order of arrival, until its shortfall is
    covered; the promise is the arrival date of the last receipt it needs. A line incoming supply
    cannot cover in full reserves nothing and gets no promise.
    """
    dates: list[str | None] = [None] * instance.n_lines
    receipts = instance.incoming or ()
    if not receipts:
        return dates
    allocated = allocation.units_per_line(instance.n_lines)
    left = [receipt.quantity for receipt in receipts]
    short = np.flatnonzero(allocated < instance.line_quantity)
    order = short[np.lexsort((short, -instance.line_priority[short]))]
    options: dict[int, list[tuple[int, int]]] = {}  # class -> [(arrival, receipt)] by arrival
    for line in order.tolist():
        class_no = int(eligibility.line_class[line])
        if class_no not in options:
            found: list[tuple[int, int]] = []
            if eligibility.class_authorised[class_no]:
                product = int(eligibility.class_product[class_no])
                region = int(eligibility.class_region[class_no])
                shelf = int(eligibility.class_shelf[class_no])
                for number, receipt in enumerate(receipts):
                    if receipt.product != product or not site_stores(
                        instance, receipt.site, product
                    ):
                        continue
                    if not lane_usable(instance, receipt.site, region, product):
                        continue
                    arrival = receipt.available + instance.lanes[receipt.site, region].transit_days
                    if receipt.expiry is not None and receipt.expiry - arrival < shelf:
                        continue
                    found.append((arrival, number))
            found.sort()
            options[class_no] = found
        need = int(instance.line_quantity[line] - allocated[line])
        plan: list[tuple[int, int]] = []
        last = 0
        for arrival, number in options[class_no]:
            if need <= 0:
                break
            if left[number]:
                units = min(need, left[number])
                plan.append((number, units))
                need -= units
                last = arrival
        if need > 0 or not plan:
            continue
        for number, units in plan:
            left[number] -= units
        dates[line] = dt.date.fromordinal(last).isoformat()
    return dates
