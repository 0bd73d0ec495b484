"""EDI with partners beyond orders: despatch advices out (EANCOM DESADV, X12 856) from
shipments, receiving advices in (EANCOM RECADV, X12 861) as proof of delivery, and the
per-partner EDI settings both use (see ``docs/integration.md``)."""
