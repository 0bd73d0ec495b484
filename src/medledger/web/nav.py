"""The navigation registry: each package adds its entries; the layout shows those a role allows.

A package registers its entries when its ``views`` module is imported::

    from medledger.web.nav import NavEntry, N_, register_nav

    register_nav(NavEntry("trace", N_("Trace"), "/trace", Permission.TRACE_READ, order=60))

``label`` is an English msgid (marked with ``N_`` so that ``pybabel extract`` finds it); the
layout translates it per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from medledger.core.principal import Permission, Principal


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (gettext_noop)."""
    return message


@dataclass(frozen=True)
class NavEntry:
    """One link of the main navigation."""

    key: str
    label: str
    path: str
    permission: Permission | None = None
    order: int = 100

    def visible_to(self, principal: Principal) -> bool:
        return self.permission is None or principal.can(self.permission)


_ENTRIES: dict[str, NavEntry] = {}


def register_nav(entry: NavEntry) -> None:
    """Add (or replace, by key) a navigation entry."""
    _ENTRIES[entry.key] = entry


def nav_entries() -> list[NavEntry]:
    """Every registered entry, in display order."""
    return sorted(_ENTRIES.values(), key=lambda e: (e.order, e.key))


def nav_for(principal: Principal) -> list[NavEntry]:
    """The entries ``principal``'s role allows, in display order."""
    return [entry for entry in nav_entries() if entry.visible_to(principal)]


# --- start-page panels -----------------------------------------------------------------------
# A package shows a panel on the start page (its user's tasks, say) by registering a function
# that takes the page's ``web.ui.Ui`` and returns safe HTML, or None to show nothing.

_HOME_PANELS: dict[str, Callable[[Any], Any]] = {}


def register_home_panel(key: str, render: Callable[[Any], Any]) -> None:
    """Add (or replace, by key) a start-page panel."""
    _HOME_PANELS[key] = render


def home_panels(ui: Any) -> list[Any]:
    """The rendered panels for this request, in registration order (empty ones left out)."""
    return [html for html in (render(ui) for render in _HOME_PANELS.values()) if html]
