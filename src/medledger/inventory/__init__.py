"""Inventory: lot-exact stock at the hub's sites, kept as a projection of the trace ledger.

Importing the package registers the stock projection with ``trace.ledger.registry``.
"""
