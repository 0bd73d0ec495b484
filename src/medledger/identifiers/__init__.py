"""GS1 identifiers: check digits, scan parsing and EPC URN / Digital Link normalisation."""
