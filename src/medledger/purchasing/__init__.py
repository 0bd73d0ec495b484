"""Purchasing: purchase orders to suppliers, their confirmations, advance ship notices and
receiving against them."""
