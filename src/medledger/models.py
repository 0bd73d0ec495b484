"""Imports every context's models and visibility rules so the metadata and the scoping registry
are complete (app start, CLI, migrations, tests)."""

from __future__ import annotations


def load_all_models() -> None:
    import medledger.catalog.models
    import medledger.catalog.repository  # party-visibility rules
    import medledger.compliance.models
    import medledger.orders.models
    import medledger.orders.repository  # party-visibility rules
    import medledger.parties.models
    import medledger.parties.repository  # party-visibility rules
    import medledger.trace.models
    import medledger.trace.repository  # noqa: F401  party-visibility rules
