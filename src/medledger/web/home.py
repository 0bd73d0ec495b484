"""The home page's registry: each context adds the tiles (counts and alerts) that matter to the
roles that may see them, as it adds its navigation entries (``web.nav``)::

    from medledger.web.home import HomeTile, register_tile

    register_tile(HomeTile("near_expiry", N_("Lots expiring within 90 days"),
                           N_("Plan their use"), count_near_expiry, "/lots?expires=90",
                           Permission.TRACE_READ, alert_when_positive=True, order=20))

``count(ui)`` answers through the scoping helper, so a partner's tile counts what concerns its
party; ``link`` is the list filtered to exactly what the tile counts. A tile whose count fails
is shown as unavailable rather than breaking the page. Charts register the same way
(:class:`HomeChart`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from medledger.core.principal import Permission, Principal
from medledger.web.ui import Ui

log = logging.getLogger("medledger.web.home")


@dataclass(frozen=True)
class HomeTile:
    """A count on the home page that links to the list of what it counts."""

    key: str
    label: str
    hint: str
    count: Callable[[Ui], int] | None
    link: str
    permission: Permission | None = None
    alert_when_positive: bool = False
    order: int = 100
    # A page fragment (htmx) that fills the tile after the page loaded, for answers that take
    # longer than a count (the audit chain verification).
    fragment: str = ""

    def visible_to(self, principal: Principal) -> bool:
        return self.permission is None or principal.can(self.permission)


@dataclass(frozen=True)
class HomeChart:
    """A chart on the home page: ``series(ui)`` gives ``(labels, values)``."""

    key: str
    title: str
    series: Callable[[Ui], tuple[list[str], list[int]]]
    link: str
    permission: Permission | None = None
    order: int = 100

    def visible_to(self, principal: Principal) -> bool:
        return self.permission is None or principal.can(self.permission)


@dataclass(frozen=True)
class ShownTile:
    tile: HomeTile
    value: int | None

    @property
    def tone(self) -> str:
        if self.value is None:
            return "off"
        return "alert" if self.tile.alert_when_positive and self.value > 0 else "ok"


_TILES: dict[str, HomeTile] = {}
_CHARTS: dict[str, HomeChart] = {}


def register_tile(tile: HomeTile) -> None:
    """Add (or replace, by key) a tile."""
    _TILES[tile.key] = tile


def register_chart(chart: HomeChart) -> None:
    """Add (or replace, by key) a chart."""
    _CHARTS[chart.key] = chart


def tiles_for(ui: Ui) -> list[ShownTile]:
    """The tiles the user's role may see, with their counts, in display order."""
    principal = ui.principal
    assert principal is not None
    shown = []
    for tile in sorted(_TILES.values(), key=lambda t: (t.order, t.key)):
        if not tile.visible_to(principal):
            continue
        if tile.count is None:
            shown.append(ShownTile(tile, None))
            continue
        try:
            value: int | None = tile.count(ui)
        except Exception:  # a broken tile must not take the home page down
            log.exception("home tile %s failed", tile.key)
            ui.discard_changes()
            value = None
        shown.append(ShownTile(tile, value))
    return shown


def charts_for(ui: Ui) -> list[dict[str, Any]]:
    """The charts the user's role may see, as data for the page."""
    principal = ui.principal
    assert principal is not None
    result = []
    for chart in sorted(_CHARTS.values(), key=lambda c: (c.order, c.key)):
        if chart.visible_to(principal):
            labels, values = chart.series(ui)
            result.append(
                {
                    "key": chart.key,
                    "title": ui._(chart.title),
                    "labels": labels,
                    "values": values,
                    "link": chart.link,
                }
            )
    return result
