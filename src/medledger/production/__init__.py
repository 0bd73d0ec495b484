"""Production (simple): work orders that consume component lots per the BOM and produce a
finished lot or serials as one EPCIS TransformationEvent, with the device history record."""
