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


def label(table: dict[str, str], code: str | None) -> str:
    """The msgid naming ``code`` (the code itself when it has no name)."""
    if code is None:
        return ""
    return table.get(code, code)
