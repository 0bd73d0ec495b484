"""Transport lanes (master data) and the choice of a lane for an order line."""
