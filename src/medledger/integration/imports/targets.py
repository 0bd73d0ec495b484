"""What can be imported: per entity, its fields (the dictionary names a mapping points at),
how a row's values become the API's own input schema, and the service that creates it.

Rows go through the same pydantic schemas and services as ``POST /api/v1/…``: an imported
record obeys exactly the rules of one created by hand, and is audited the same way. References
to other records are given by GS1 key (a site names its party by GLN), never by internal id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.catalog import service as catalog_service
from medledger.catalog.schemas import ProductIn
from medledger.core.errors import FieldError
from medledger.core.principal import Permission, Principal
from medledger.integration.errors import Code
from medledger.inventory import service as inventory_service
from medledger.inventory.schemas import LotIn, OpeningStockIn
from medledger.parties import service as parties_service
from medledger.parties.models import Location, Party, Site
from medledger.parties.schemas import LocationIn, PartyIn, SiteIn
from medledger.web.nav import N_

UNKNOWN_REFERENCE = Code.IMPORT_UNKNOWN_REFERENCE


@dataclass(frozen=True)
class ImportField:
    name: str
    label: str
    required: bool = False


class References:
    """GLN → id of the tenant's parties and sites, read once per run (and after each row that
    creates one, so a file may create a party and then its sites)."""

    def __init__(self, session: Session, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self._parties: dict[str, int] | None = None
        self._sites: dict[str, int] | None = None
        self._locations: dict[tuple[str, str], int] | None = None

    def party(self, gln: str) -> int | None:
        if self._parties is None:
            self._parties = {
                g: int(i)
                for g, i in self.session.execute(
                    select(Party.gln, Party.id).where(Party.tenant_id == self.tenant_id)
                )
            }
        return self._parties.get(gln)

    def site(self, gln: str) -> int | None:
        if self._sites is None:
            self._sites = {
                g: int(i)
                for g, i in self.session.execute(
                    select(Site.gln, Site.id).where(Site.tenant_id == self.tenant_id)
                )
            }
        return self._sites.get(gln)

    def location(self, site_gln: str, code: str) -> int | None:
        if self._locations is None:
            self._locations = {
                (str(g), str(c)): int(i)
                for g, c, i in self.session.execute(
                    select(Site.gln, Location.code, Location.id)
                    .join(Site, Site.id == Location.site_id)
                    .where(Location.tenant_id == self.tenant_id)
                )
            }
        return self._locations.get((site_gln, code))

    def created(self, entity: str, gln: str | None, record_id: int) -> None:
        if not gln:
            return
        if entity == "parties" and self._parties is not None:
            self._parties[gln] = record_id
        if entity == "sites" and self._sites is not None:
            self._sites[gln] = record_id


def _resolve(
    values: dict[str, Any],
    errors: list[FieldError],
    field: str,
    target: str,
    lookup: Callable[[str], int | None],
) -> None:
    """Replace reference ``field`` (a GLN) by ``target`` (an id), or report it unknown."""
    gln = values.pop(field, None)
    if not gln:
        return
    found = lookup(gln)
    if found is None:
        errors.append(
            FieldError(
                field=field,
                code=UNKNOWN_REFERENCE,
                message="Nothing with GLN {value} is registered.",
                params={"value": gln},
            )
        )
        return
    values[target] = found


def _split(values: dict[str, Any], field: str) -> None:
    raw = values.get(field)
    if isinstance(raw, str):
        values[field] = [part.strip() for part in raw.replace(",", ";").split(";") if part.strip()]


def _opening_stock(
    values: dict[str, Any], refs: References, errors: list[FieldError]
) -> dict[str, Any]:
    """The location is named by its site's GLN and its code."""
    site_gln = values.pop("site_gln", None)
    code = values.pop("location_code", None)
    if site_gln and code:
        found = refs.location(site_gln, code)
        if found is None:
            errors.append(
                FieldError(
                    field="location_code",
                    code=UNKNOWN_REFERENCE,
                    message="No location {code} at the site with GLN {value}.",
                    params={"code": code, "value": site_gln},
                )
            )
        else:
            values["location_id"] = found
    return values


def _lots(values: dict[str, Any], refs: References, errors: list[FieldError]) -> dict[str, Any]:
    return values


@dataclass(frozen=True)
class Target:
    entity: str
    label: str
    permission: Permission
    fields: tuple[ImportField, ...]
    schema: type[BaseModel]
    # field names of the input schema → the import field reported for its errors
    field_names: dict[str, str]
    key: tuple[str, ...]
    prepare: Callable[[dict[str, Any], References, list[FieldError]], dict[str, Any]]
    create: Callable[[Session, Principal, Any], Any]
    gln_field: str | None = None
    # How many leading ``key`` fields must be filled for the duplicate check (0: all).
    key_required: int = 0

    @property
    def field_set(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)


def _products(values: dict[str, Any], refs: References, errors: list[FieldError]) -> dict[str, Any]:
    _resolve(values, errors, "owner_gln", "owner_party_id", refs.party)
    return values


def _parties(values: dict[str, Any], refs: References, errors: list[FieldError]) -> dict[str, Any]:
    _split(values, "roles")
    return values


def _sites(values: dict[str, Any], refs: References, errors: list[FieldError]) -> dict[str, Any]:
    _resolve(values, errors, "party_gln", "party_id", refs.party)
    return values


def _locations(
    values: dict[str, Any], refs: References, errors: list[FieldError]
) -> dict[str, Any]:
    _resolve(values, errors, "site_gln", "site_id", refs.site)
    return values


TARGETS: dict[str, Target] = {
    target.entity: target
    for target in (
        Target(
            "products",
            N_("Products"),
            Permission.CATALOG_WRITE,
            (
                ImportField("gtin", N_("GTIN"), True),
                ImportField("name", N_("Name"), True),
                ImportField("description", N_("Description")),
                ImportField("udi_di", N_("UDI-DI")),
                ImportField("basic_udi_di", N_("Basic UDI-DI")),
                ImportField("device_class_us", N_("Device class (US)")),
                ImportField("device_class_eu", N_("Device class (EU)")),
                ImportField("device_class_cn", N_("Device class (CN)")),
                ImportField("tracking_level", N_("Tracking level"), True),
                ImportField("shelf_life_days", N_("Shelf life (days)")),
                ImportField("storage_class", N_("Storage class"), True),
                ImportField("unit_of_measure", N_("Unit of measure")),
                ImportField("owner_gln", N_("Owner GLN")),
            ),
            ProductIn,
            {"owner_party_id": "owner_gln"},
            ("gtin",),
            _products,
            catalog_service.create_product,
        ),
        Target(
            "parties",
            N_("Parties"),
            Permission.PARTIES_WRITE,
            (
                ImportField("name", N_("Name"), True),
                ImportField("gln", N_("GLN"), True),
                ImportField("roles", N_("Roles"), True),
                ImportField("country", N_("Country"), True),
                ImportField("region", N_("Region"), True),
                ImportField("time_zone", N_("Time zone")),
            ),
            PartyIn,
            {},
            ("gln",),
            _parties,
            parties_service.create_party,
            gln_field="gln",
        ),
        Target(
            "sites",
            N_("Sites"),
            Permission.SITES_WRITE,
            (
                ImportField("party_gln", N_("Party GLN"), True),
                ImportField("name", N_("Name"), True),
                ImportField("gln", N_("GLN"), True),
                ImportField("country", N_("Country"), True),
                ImportField("address", N_("Address")),
                ImportField("time_zone", N_("Time zone")),
            ),
            SiteIn,
            {"party_id": "party_gln"},
            ("gln",),
            _sites,
            parties_service.create_site,
            gln_field="gln",
        ),
        Target(
            "locations",
            N_("Locations"),
            Permission.SITES_WRITE,
            (
                ImportField("site_gln", N_("Site GLN"), True),
                ImportField("code", N_("Code"), True),
                ImportField("gln", N_("GLN")),
                ImportField("name", N_("Name"), True),
                ImportField("storage_class", N_("Storage class"), True),
                ImportField("zone_purpose", N_("Zone purpose"), True),
            ),
            LocationIn,
            {"site_id": "site_gln"},
            ("site_gln", "code"),
            _locations,
            parties_service.create_location,
        ),
        Target(
            "lots",
            N_("Lots"),
            Permission.INVENTORY_MOVE,
            (
                ImportField("gtin", N_("GTIN"), True),
                ImportField("lot", N_("Lot"), True),
                ImportField("expiry", N_("Expiry")),
            ),
            LotIn,
            {},
            ("gtin", "lot"),
            _lots,
            inventory_service.register_lot,
        ),
        Target(
            "opening_stock",
            N_("Opening stock"),
            Permission.INVENTORY_MOVE,
            (
                ImportField("site_gln", N_("Site GLN"), True),
                ImportField("location_code", N_("Location code"), True),
                ImportField("gtin", N_("GTIN"), True),
                ImportField("lot", N_("Lot")),
                ImportField("serial", N_("Serial")),
                ImportField("quantity", N_("Quantity"), True),
                ImportField("expiry", N_("Expiry")),
                ImportField("status", N_("Status")),
            ),
            OpeningStockIn,
            {
                "location_id": "location_code",
                "lines.0.quantity": "quantity",
                "lines.0.lot": "lot",
                "lines.0": "location_code",
            },
            ("site_gln", "location_code", "gtin", "lot", "serial"),
            _opening_stock,
            inventory_service.open_stock,
            key_required=3,
        ),
    )
}
