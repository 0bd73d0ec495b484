"""A realistic allocation instance, generated from a seed (for bench/bench_allocation.py).

Shape: 400 products (60 % ambient, 30 % cold, 10 % frozen; each authorised in most of 12
regions), 14 distribution sites (all ambient, 9 cold, 4 frozen) with lanes to their own
continent and a few others (70 % cold-chain, 1–9 transit days, cost 1–20), lots spread over the
sites (15 % not released, expiries 20–900 days out), and order lines with popular products
(Zipf-like), shelf-life needs 0/90/180/365 days, two-decimal priorities and about 1.4× more
demand than eligible stock, so scarcity, short-dated stock and lane gaps all bite.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

REGIONS = ("US", "CA", "BR", "DE", "FR", "IT", "ES", "GB", "CN", "JP", "AU", "IN")
CONTINENT = {
    "US": 0, "CA": 0, "BR": 0,
    "DE": 1, "FR": 1, "IT": 1, "ES": 1, "GB": 1,
    "CN": 2, "JP": 2, "AU": 2, "IN": 2,
}  # fmt: skip
STORAGE = ("ambient", "cold", "frozen")
STATUSES = ("released", "quarantine", "on_hold", "rejected", "recalled")


def generate_instance(
    *,
    lines: int = 100_000,
    lots: int = 6_000,
    products: int = 400,
    sites: int = 14,
    ship_complete_share: float = 0.0,
    seed: int = 15,
) -> dict[str, Any]:
    """The instance document (JSON-ready)."""
    rng = np.random.default_rng(seed)
    as_of = dt.date(2026, 11, 21)

    def day(offset: int) -> str:
        return (as_of + dt.timedelta(days=int(offset))).isoformat()

    product_docs = []
    storage_of = rng.choice(3, size=products, p=[0.6, 0.3, 0.1])
    for n in range(products):
        authorised = [r for r in REGIONS if rng.random() < 0.8]
        product_docs.append(
            {
                "gtin": f"0950600{n:07d}",
                "storage": STORAGE[storage_of[n]],
                "authorized_regions": authorised or [REGIONS[n % len(REGIONS)]],
            }
        )
    site_docs = []
    site_continent = []
    for n in range(sites):
        storage = ["ambient"] + (["cold"] if n < 9 else []) + (["frozen"] if n < 4 else [])
        site_docs.append({"id": f"DC-{n:02d}", "storage": storage})
        site_continent.append(n % 3)
    lane_docs = []
    for n in range(sites):
        for region in REGIONS:
            home = CONTINENT[region] == site_continent[n]
            if home or rng.random() < 0.15:
                lane_docs.append(
                    {
                        "site": f"DC-{n:02d}",
                        "region": region,
                        "transit_days": int(rng.integers(1, 4) if home else rng.integers(4, 10)),
                        "cold_chain": bool(rng.random() < 0.7),
                        "cost": int(rng.integers(1, 8) if home else rng.integers(8, 21)),
                    }
                )
    popularity = 1.0 / np.arange(1, products + 1) ** 0.8
    popularity /= popularity.sum()
    lot_product = rng.choice(products, size=lots, p=popularity)
    lot_docs = []
    for n in range(lots):
        product = int(lot_product[n])
        storable = [
            s for s, doc in enumerate(site_docs) if STORAGE[storage_of[product]] in doc["storage"]
        ]
        site = int(rng.choice(storable)) if rng.random() < 0.95 else int(rng.integers(sites))
        status = "released" if rng.random() < 0.85 else STATUSES[int(rng.integers(1, 5))]
        lot_docs.append(
            {
                "id": f"L-{n:06d}",
                "gtin": product_docs[product]["gtin"],
                "lot": f"B{n:06d}",
                "site": f"DC-{site:02d}",
                "quantity": int(rng.integers(20, 400)),
                "expiry": day(rng.integers(20, 900)),
                "status": status,
            }
        )
    supply = sum(doc["quantity"] for doc in lot_docs)
    line_product = rng.choice(products, size=lines, p=popularity)
    raw_quantity = rng.geometric(1 / 12, size=lines)
    scale = 1.4 * 0.75 * supply / raw_quantity.sum()  # ~75 % of stock is eligible somewhere
    quantity = np.maximum(1, np.round(raw_quantity * scale)).astype(int)
    shelf = rng.choice([0, 90, 180, 365], size=lines, p=[0.3, 0.3, 0.25, 0.15])
    region = rng.choice(len(REGIONS), size=lines)
    priority = np.round(rng.gamma(2.0, 20.0, size=lines), 2)
    complete = rng.random(lines) < ship_complete_share
    line_docs = [
        {
            "id": f"SO-{n // 4:06d}/{n % 4 + 1}",
            "gtin": product_docs[int(line_product[n])]["gtin"],
            "quantity": int(quantity[n]),
            "region": REGIONS[int(region[n])],
            "min_shelf_life_days": int(shelf[n]),
            "priority": float(priority[n]),
            "ship_complete": bool(complete[n]),
        }
        for n in range(lines)
    ]
    return {
        "as_of": as_of.isoformat(),
        "products": product_docs,
        "sites": site_docs,
        "lanes": lane_docs,
        "lots": lot_docs,
        "lines": line_docs,
    }
