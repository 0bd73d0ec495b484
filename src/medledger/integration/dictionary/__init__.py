"""The data dictionary: every exchanged field declared once (type, unit, GS1 AI, rules,
translations), in versions with an effective date and a signed approval; imports and order
intake are checked against the active version (see ``docs/integration.md``)."""
