"""Imports every context's models and visibility rules so the metadata and the scoping registry
are complete (app start, CLI, migrations, tests)."""

from __future__ import annotations


def load_all_models() -> None:
    import medledger.analytics.hooks  # the demand forecast replenishment reads
    import medledger.analytics.models
    import medledger.analytics.repository  # party-visibility rules
    import medledger.catalog.models
    import medledger.catalog.repository  # party-visibility rules
    import medledger.compliance.models
    import medledger.compliance.signables  # party-visibility of signatures and workflow steps
    import medledger.integration.dictionary.checks  # order intake checked by the dictionary
    import medledger.integration.dictionary.models
    import medledger.integration.dictionary.service  # signable kind: dictionary versions
    import medledger.integration.edi.auto  # despatch advices sent at every shipping event
    import medledger.integration.edi.models
    import medledger.integration.edi.receipts  # RECADV / 861 through the order inbox
    import medledger.integration.epcis_subscriptions  # webhook sink of EPCIS subscriptions
    import medledger.integration.facts  # business facts (core.facts) to the outbox
    import medledger.integration.imports.models
    import medledger.integration.imports.repository  # party-visibility rules
    import medledger.integration.ledger_events  # outbox publisher of shipments and receipts
    import medledger.integration.models
    import medledger.integration.repository  # party-visibility rules
    import medledger.inventory.lot_holds  # quality's lot-hold requests
    import medledger.inventory.models
    import medledger.inventory.projection  # party-visibility rules; the stock projection
    import medledger.orders.approvals  # signable approval requests
    import medledger.orders.models
    import medledger.orders.planning  # the stock-change handler (re-plan)
    import medledger.orders.planning_models
    import medledger.orders.repository  # party-visibility rules
    import medledger.parties.auth  # ends sessions when credentials change
    import medledger.parties.models
    import medledger.parties.repository  # party-visibility rules
    import medledger.production.models
    import medledger.production.repository  # party-visibility rules
    import medledger.purchasing.models
    import medledger.purchasing.repository  # party-visibility rules
    import medledger.quality.models
    import medledger.quality.repository  # party-visibility rules
    import medledger.quality.signables  # signable kinds (signature visibility)
    import medledger.recall.events  # outbox event type recall.notice
    import medledger.recall.models
    import medledger.recall.repository  # party-visibility rules
    import medledger.recall.signables  # signable kind (signature visibility)
    import medledger.trace.models
    import medledger.trace.named_queries  # subscription feed (a ledger projection)
    import medledger.trace.repository  # party-visibility rules
    import medledger.transport.models  # noqa: F401  lanes and lane choices
