"""Tenants, parties, sites, locations, users and their credentials."""

# Registers how signing (compliance) loads a signer; every entry point imports this package.
from medledger.parties import signers as _signers  # noqa: F401
