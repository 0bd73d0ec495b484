"""Human names of stored codes (roles, storage classes …), as msgids translated at render time.

Codes stay in the database and the API; only their names are translated.
"""

from __future__ import annotations

from medledger.web.nav import N_

ROLE_LABELS: dict[str, str] = {
    "admin": N_("Administrator"),
    "planner": N_("Planner"),
    "sales": N_("Sales"),
    "warehouse": N_("Warehouse"),
    "purchasing": N_("Purchasing"),
    "qa": N_("Quality assurance"),
    "qa_approver": N_("QA approver"),
    "partner_user": N_("Partner user"),
    "auditor": N_("Auditor (read-only)"),
}

PARTY_ROLE_LABELS: dict[str, str] = {
    "manufacturer": N_("Manufacturer"),
    "supplier": N_("Supplier"),
    "contract_manufacturer": N_("Contract manufacturer"),
    "test_lab": N_("Test lab"),
    "logistics_provider": N_("Logistics provider"),
    "distributor": N_("Distributor"),
    "hospital": N_("Hospital"),
    "auditor": N_("Auditor"),
}

STORAGE_CLASS_LABELS: dict[str, str] = {
    "ambient": N_("Ambient"),
    "chilled_2_8": N_("Chilled 2–8 °C"),
    "frozen": N_("Frozen"),
}

ZONE_PURPOSE_LABELS: dict[str, str] = {
    "receiving_quarantine": N_("Receiving / quarantine"),
    "released": N_("Released stock"),
    "rejected": N_("Rejected"),
    "shipping": N_("Shipping"),
}

TRACKING_LEVEL_LABELS: dict[str, str] = {
    "lot": N_("By lot"),
    "serial": N_("By serial number"),
}

AUTHORISATION_KIND_LABELS: dict[str, str] = {
    "fda_510k": N_("FDA 510(k)"),
    "fda_pma": N_("FDA PMA"),
    "fda_de_novo": N_("FDA De Novo"),
    "fda_exempt": N_("FDA exempt"),
    "eu_mdr_certificate": N_("EU MDR certificate"),
    "eu_ivdr_certificate": N_("EU IVDR certificate"),
    "eu_self_declaration": N_("EU declaration of conformity"),
    "nmpa_registration": N_("NMPA registration certificate"),
    "nmpa_filing": N_("NMPA filing"),
}

BOM_STATUS_LABELS: dict[str, str] = {
    "draft": N_("draft"),
    "active": N_("active"),
    "obsolete": N_("obsolete"),
}

AUDIT_ACTION_LABELS: dict[str, str] = {
    "create": N_("created"),
    "update": N_("changed"),
    "deactivate": N_("deactivated"),
    "reactivate": N_("reactivated"),
    "delete": N_("deleted"),
    "login": N_("logged in"),
    "activate": N_("activated"),
    "revoke": N_("revoked"),
    "epcis.capture": N_("EPCIS capture"),
}

ENTITY_LABELS: dict[str, str] = {
    "parties": N_("Party"),
    "sites": N_("Site"),
    "locations": N_("Location"),
    "users": N_("User"),
    "api_keys": N_("API key"),
    "products": N_("Product"),
    "market_authorisations": N_("Market authorisation"),
    "boms": N_("Bill of material"),
    "bom_lines": N_("BOM line"),
    "epcis_events": N_("EPCIS event"),
    "epcis_capture_job": N_("Capture job"),
}

# Names of the fields audit entries mention (the history panel and the audit trail).
FIELD_LABELS: dict[str, str] = {
    "name": N_("Name"),
    "gln": N_("GLN"),
    "gtin": N_("GTIN"),
    "roles": N_("Roles"),
    "role": N_("Role"),
    "country": N_("Country"),
    "region": N_("Region"),
    "time_zone": N_("Time zone"),
    "contacts": N_("Contacts"),
    "active": N_("Active"),
    "address": N_("Address"),
    "party_id": N_("Party"),
    "site_id": N_("Site"),
    "product_id": N_("Product"),
    "code": N_("Code"),
    "storage_class": N_("Storage class"),
    "zone_purpose": N_("Zone"),
    "username": N_("Username"),
    "display_name": N_("Display name"),
    "email": N_("E-mail"),
    "locale": N_("Language"),
    "description": N_("Description"),
    "basic_udi_di": N_("Basic UDI-DI"),
    "device_class_us": N_("Device class (US)"),
    "device_class_eu": N_("Device class (EU)"),
    "device_class_cn": N_("Device class (China)"),
    "tracking_level": N_("Tracking"),
    "shelf_life_days": N_("Shelf life (days)"),
    "unit_of_measure": N_("Unit of measure"),
    "kind": N_("Kind"),
    "number": N_("Number"),
    "valid_from": N_("Valid from"),
    "valid_until": N_("Valid until"),
    "version": N_("Version"),
    "status": N_("Status"),
    "prefix": N_("Key prefix"),
    "revoked_at": N_("Revoked"),
    "last_used_at": N_("Last used"),
    "quantity": N_("Quantity"),
    "component_gtin": N_("Component GTIN"),
}

# --- EPCIS / CBV 2.0 vocabulary (codes stay codes in the API and in the stored events) -------

EVENT_TYPE_LABELS: dict[str, str] = {
    "ObjectEvent": N_("Object event"),
    "AggregationEvent": N_("Aggregation event"),
    "TransactionEvent": N_("Transaction event"),
    "TransformationEvent": N_("Transformation event"),
    "AssociationEvent": N_("Association event"),
}

EVENT_ACTION_LABELS: dict[str, str] = {
    "ADD": N_("add"),
    "OBSERVE": N_("observe"),
    "DELETE": N_("delete"),
}

BIZ_STEP_LABELS: dict[str, str] = {
    "accepting": N_("accepting"),
    "arriving": N_("arriving"),
    "assembling": N_("assembling"),
    "collecting": N_("collecting"),
    "commissioning": N_("commissioning"),
    "consigning": N_("consigning"),
    "creating_class_instance": N_("creating class instance"),
    "cycle_counting": N_("cycle counting"),
    "decommissioning": N_("decommissioning"),
    "departing": N_("departing"),
    "destroying": N_("destroying"),
    "disassembling": N_("disassembling"),
    "dispensing": N_("dispensing"),
    "encoding": N_("encoding"),
    "entering_exiting": N_("entering or exiting"),
    "holding": N_("holding"),
    "inspecting": N_("inspecting"),
    "installing": N_("installing"),
    "killing": N_("killing (tag)"),
    "loading": N_("loading"),
    "other": N_("other"),
    "packing": N_("packing"),
    "picking": N_("picking"),
    "receiving": N_("receiving"),
    "removing": N_("removing"),
    "repackaging": N_("repackaging"),
    "repairing": N_("repairing"),
    "replacing": N_("replacing"),
    "reserving": N_("reserving"),
    "retail_selling": N_("retail selling"),
    "sampling": N_("sampling"),
    "sensor_reporting": N_("sensor reporting"),
    "shipping": N_("shipping"),
    "staging_outbound": N_("staging outbound"),
    "stock_taking": N_("stock taking"),
    "stocking": N_("stocking"),
    "storing": N_("storing"),
    "transporting": N_("transporting"),
    "unloading": N_("unloading"),
    "unpacking": N_("unpacking"),
    "void_shipping": N_("void shipping"),
}

DISPOSITION_LABELS: dict[str, str] = {
    "active": N_("active"),
    "available": N_("available"),
    "completeness_inferred": N_("completeness inferred"),
    "completeness_verified": N_("completeness verified"),
    "conformant": N_("conformant"),
    "container_closed": N_("container closed"),
    "container_open": N_("container open"),
    "damaged": N_("damaged"),
    "destroyed": N_("destroyed"),
    "dispensed": N_("dispensed"),
    "disposed": N_("disposed"),
    "encoded": N_("encoded"),
    "expired": N_("expired"),
    "in_progress": N_("in progress"),
    "in_transit": N_("in transit"),
    "inactive": N_("inactive"),
    "mismatch_class": N_("class mismatch"),
    "mismatch_instance": N_("instance mismatch"),
    "mismatch_quantity": N_("quantity mismatch"),
    "needs_replacement": N_("needs replacement"),
    "no_pedigree_match": N_("no pedigree match"),
    "non_conformant": N_("non-conformant"),
    "non_sellable_other": N_("non-sellable (other)"),
    "partially_dispensed": N_("partially dispensed"),
    "recalled": N_("recalled"),
    "reserved": N_("reserved"),
    "retail_sold": N_("sold (retail)"),
    "returned": N_("returned"),
    "sellable_accessible": N_("sellable, accessible"),
    "sellable_not_accessible": N_("sellable, not accessible"),
    "stolen": N_("stolen"),
    "unavailable": N_("unavailable"),
    "unknown": N_("unknown"),
}

BIZ_TRANSACTION_TYPE_LABELS: dict[str, str] = {
    "bol": N_("bill of lading"),
    "cert": N_("certificate"),
    "desadv": N_("despatch advice"),
    "inv": N_("invoice"),
    "pedigree": N_("pedigree"),
    "po": N_("purchase order"),
    "poc": N_("purchase order confirmation"),
    "prodorder": N_("production order"),
    "recadv": N_("receiving advice"),
    "rma": N_("return merchandise authorisation"),
    "testprd": N_("test procedure"),
    "testres": N_("test result"),
    "upevt": N_("upstream EPCIS event"),
}

SOURCE_DESTINATION_LABELS: dict[str, str] = {
    "owning_party": N_("owning party"),
    "possessing_party": N_("possessing party"),
    "location": N_("location"),
}

# How an event names an item (trace.models.EventItem.role).
EVENT_ITEM_ROLE_LABELS: dict[str, str] = {
    "epc": N_("item"),
    "parent": N_("container"),
    "child": N_("contents"),
    "input": N_("input"),
    "output": N_("output"),
    "quantity": N_("quantity of a class"),
    "child_quantity": N_("contents (quantity)"),
    "input_quantity": N_("input (quantity)"),
    "output_quantity": N_("output (quantity)"),
}

CAPTURE_STATE_LABELS: dict[str, str] = {
    "accepted": N_("accepted"),
    "running": N_("running"),
    "succeeded": N_("succeeded"),
    "failed": N_("failed"),
}

ITEM_KIND_LABELS: dict[str, str] = {
    "lot": N_("Lot"),
    "serial": N_("Serial"),
    "sscc": N_("Logistic unit"),
    "class": N_("Product"),
    "other": N_("Item"),
}

REGION_LABELS: dict[str, str] = {
    "US": N_("United States"),
    "EU": N_("European Union"),
    "CN": N_("China"),
    "UK": N_("United Kingdom"),
    "JP": N_("Japan"),
    "KR": N_("South Korea"),
    "CA": N_("Canada"),
    "AU": N_("Australia"),
    "BR": N_("Brazil"),
    "IN": N_("India"),
    "OTHER": N_("Other"),
}


def cbv_name(value: str | None) -> str | None:
    """The bare CBV term of ``value`` in any of its spellings (``shipping`` from
    ``urn:epcglobal:cbv:bizstep:shipping`` or ``https://ref.gs1.org/cbv/BizStep-shipping``)."""
    if not value:
        return None
    if value.startswith("urn:epcglobal:cbv:"):
        return value.rsplit(":", 1)[-1]
    if "/cbv/" in value or "gs1.org/voc/" in value:
        tail = value.rstrip("/").rsplit("/", 1)[-1]
        return tail.split("-", 1)[1] if "-" in tail else tail
    return value


def cbv_label(table: dict[str, str], value: str | None) -> str:
    """The msgid naming a CBV term; an extension term (a company's own URI) stays as written."""
    name = cbv_name(value)
    if name is None:
        return ""
    return table.get(name, value or "")


def label(table: dict[str, str], code: str | None) -> str:
    """The msgid naming ``code`` (the code itself when it has no name)."""
    if code is None:
        return ""
    return table.get(code, code)
