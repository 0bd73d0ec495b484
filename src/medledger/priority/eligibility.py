"""Which lot may serve which line, in the compact form both solvers share.

Eligibility of lot ``k`` for line ``i`` depends on the line only through its *class*
``(product, region, min_shelf_life_days)``. For a product and region the lots that pass the
status, storage, lane, cold-chain and authorisation checks form a *pool*; each pooled lot has a
*slack* ``expiry − as_of − transit_days`` and serves a class exactly when
``slack ≥ min_shelf_life_days``. So a class's eligible lots are a threshold cut of its pool, and
per (product, site, region) *group* the lots sorted by expiry are served in suffixes — the
structure the exact solver's chain network and the greedy's candidate lists are built on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medledger.priority.instance import RELEASED, STORAGE_CLASSES, AllocationInstance, IntArray

AMBIENT = STORAGE_CLASSES.index("ambient")


@dataclass(frozen=True)
class Group:
    """Released, storable, reachable lots of one product at one site for one region."""

    product: int
    site: int
    region: int
    transit_days: int
    cost: int
    lots: IntArray  # sorted by (expiry, lot index)
    slack: IntArray  # expiry − as_of − transit_days, non-decreasing


@dataclass(frozen=True)
class Eligibility:
    line_class: IntArray  # class index per line
    class_product: IntArray
    class_region: IntArray
    class_shelf: IntArray
    class_authorised: np.ndarray  # bool per class
    groups: tuple[Group, ...]
    class_groups: tuple[tuple[int, ...], ...]  # group indexes of each class's (product, region)

    def class_candidates(self, class_no: int) -> tuple[IntArray, IntArray]:
        """Eligible lots of a class in FEFO order (expiry, lane cost, lot index) with lane cost."""
        lots: list[IntArray] = []
        costs: list[IntArray] = []
        shelf = self.class_shelf[class_no]
        for group_no in self.class_groups[class_no]:
            group = self.groups[group_no]
            start = int(np.searchsorted(group.slack, shelf, side="left"))
            lots.append(group.lots[start:])
            costs.append(np.full(len(group.lots) - start, group.cost, dtype=np.int64))
        if not lots:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        return np.concatenate(lots), np.concatenate(costs)


def site_stores(instance: AllocationInstance, site: int, product: int) -> bool:
    return int(instance.product_storage[product]) in instance.site_storage[site]


def lane_usable(instance: AllocationInstance, site: int, region: int, product: int) -> bool:
    lane = instance.lanes.get((site, region))
    if lane is None:
        return False
    return lane.cold_chain or int(instance.product_storage[product]) == AMBIENT


def build_eligibility(instance: AllocationInstance) -> Eligibility:
    """Classes of lines, groups of lots and which groups each class draws from."""
    n_lines = instance.n_lines
    if n_lines:
        keys = np.stack(
            [instance.line_product, instance.line_region, instance.line_min_shelf_life], axis=1
        )
        unique, line_class = np.unique(keys, axis=0, return_inverse=True)
        line_class = line_class.reshape(-1).astype(np.int64)
    else:
        unique = np.zeros((0, 3), dtype=np.int64)
        line_class = np.zeros(0, dtype=np.int64)
    class_product = unique[:, 0].astype(np.int64)
    class_region = unique[:, 1].astype(np.int64)
    class_shelf = unique[:, 2].astype(np.int64)
    class_authorised = np.array(
        [
            int(region) in instance.product_regions[int(product)]
            for product, region in zip(class_product, class_region, strict=True)
        ],
        dtype=np.bool_,
    )

    # Released lots with stock, by (product, site), in (expiry, index) order.
    usable = (instance.lot_status == RELEASED) & (instance.lot_quantity > 0)
    candidates = np.flatnonzero(usable)
    order = np.lexsort((candidates, instance.lot_expiry[candidates], instance.lot_site[candidates]))
    candidates = candidates[order]
    by_product_site: dict[tuple[int, int], IntArray] = {}
    if len(candidates):
        product_of = instance.lot_product[candidates]
        site_of = instance.lot_site[candidates]
        key = product_of * max(len(instance.site_ids), 1) + site_of
        order2 = np.argsort(key, kind="stable")
        candidates, key = candidates[order2], key[order2]
        boundaries = np.flatnonzero(np.diff(key)) + 1
        for chunk in np.split(candidates, boundaries):
            first = int(chunk[0])
            by_product_site[int(instance.lot_product[first]), int(instance.lot_site[first])] = chunk

    sites_by_product: dict[int, list[int]] = {}
    for product, site in sorted(by_product_site):
        if site_stores(instance, site, product):
            sites_by_product.setdefault(product, []).append(site)

    groups: list[Group] = []
    group_index: dict[tuple[int, int], tuple[int, ...]] = {}
    class_groups: list[tuple[int, ...]] = []
    for class_no in range(len(class_product)):
        product, region = int(class_product[class_no]), int(class_region[class_no])
        if not class_authorised[class_no]:
            class_groups.append(())
            continue
        if (product, region) not in group_index:
            made: list[int] = []
            for site in sites_by_product.get(product, ()):
                if not lane_usable(instance, site, region, product):
                    continue
                lane = instance.lanes[site, region]
                lots = by_product_site[product, site]
                groups.append(
                    Group(
                        product=product,
                        site=site,
                        region=region,
                        transit_days=lane.transit_days,
                        cost=lane.cost,
                        lots=lots,
                        slack=instance.lot_expiry[lots] - instance.as_of - lane.transit_days,
                    )
                )
                made.append(len(groups) - 1)
            group_index[product, region] = tuple(made)
        class_groups.append(group_index[product, region])

    return Eligibility(
        line_class=line_class,
        class_product=class_product,
        class_region=class_region,
        class_shelf=class_shelf,
        class_authorised=class_authorised,
        groups=tuple(groups),
        class_groups=tuple(class_groups),
    )


def is_eligible(instance: AllocationInstance, line: int, lot: int) -> bool:
    """The five rules of the spec, checked one pair at a time (tests and explanations)."""
    product = int(instance.line_product[line])
    if int(instance.lot_product[lot]) != product or int(instance.lot_status[lot]) != RELEASED:
        return False
    site, region = int(instance.lot_site[lot]), int(instance.line_region[line])
    if not site_stores(instance, site, product) or not lane_usable(instance, site, region, product):
        return False
    if region not in instance.product_regions[product]:
        return False
    transit = instance.lanes[site, region].transit_days
    slack = int(instance.lot_expiry[lot]) - instance.as_of - transit
    return slack >= int(instance.line_min_shelf_life[line])
