"""The trace ledger's write side: capture of EPCIS documents, the projections maintained in the
capture transaction (items, event items, genealogy edges, custody hops, item parties), error
declarations, bulk inserts, and the registry through which other contexts add projections of
their own (:mod:`~medledger.trace.ledger.registry`)."""
