"""Seed data: the deterministic demo network (``medledger seed demo``).

``demo_network`` (parties, sites, locations, users) and ``demo_catalogue`` (products, market
authorisations, BOMs) hold the network as plain, frozen data; ``demo`` builds it through the
real services so that every record is validated and audited like any other change.
"""
