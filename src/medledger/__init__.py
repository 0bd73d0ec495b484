"""MedLedger: the shared ledger of the medical-device supply chain."""

__version__ = "0.1.0"
