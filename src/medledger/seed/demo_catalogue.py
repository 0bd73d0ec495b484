"""The demo catalogue as plain data: products, market authorisations and bills of material.

Names, certificate numbers and notified bodies are fictional but follow the real formats (FDA
510(k) "K" + 6 digits, PMA "P" + 6 digits, EU MDR/IVDR certificates, NMPA 国械注准/苏械注准
registrations and 械备 filings). GTINs and Basic UDI-DIs are derived from the owner's GS1
company prefix by :mod:`medledger.seed.demo`. Dates are constants: most authorisations are valid
for years around :data:`ANCHOR_DATE`, a few are deliberately expired, not yet valid or missing
for one market, so that allocation rules have something to refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from medledger.catalog.models import AuthorisationKind, TrackingLevel
from medledger.parties.models import StorageClass

# Dates of the demo world are relative to this anchor (the start of the demo year), never to
# today, so the seed is reproducible.
ANCHOR_DATE = date(2026, 1, 1)
BOM_VALID_FROM = date(2025, 1, 1)

AMBIENT = StorageClass.AMBIENT
CHILLED = StorageClass.CHILLED_2_8
FROZEN = StorageClass.FROZEN


K = AuthorisationKind
FDA = "U.S. FDA, CDRH"
NMPA = "国家药品监督管理局 (NMPA)"
JIANGSU_MPA = "江苏省药品监督管理局"
SUZHOU_AMR = "苏州市市场监督管理局"
NB_MERIDIAN = "Meridian Conformity GmbH, notified body 2963"
NB_NORDKAP = "Nordkap Certification B.V., notified body 2871"
SELF = "Lumen Medical Devices (manufacturer's declaration)"


@dataclass(frozen=True)
class AuthorisationSpec:
    kind: AuthorisationKind
    certificate_number: str
    authority: str
    valid_from: date
    valid_until: date | None = None


@dataclass(frozen=True)
class ProductSpec:
    """A trade item. ``item_reference`` (5 digits) and the owner's company prefix make its
    GTIN; ``model`` (finished goods) its Basic UDI-DI; ``bom`` lists (component key,
    quantity per, unit of measure)."""

    key: str
    item_reference: int
    name: str
    description: str
    tracking_level: TrackingLevel
    storage_class: StorageClass
    shelf_life_days: int | None
    unit_of_measure: str = "EA"
    owner_key: str = "hub"
    model: str | None = None
    device_class_us: str | None = None
    device_class_eu: str | None = None
    device_class_cn: str | None = None
    authorisations: tuple[AuthorisationSpec, ...] = ()
    bom: tuple[tuple[str, str, str], ...] = ()

    @property
    def is_component(self) -> bool:
        return self.owner_key != "hub"


LOT = TrackingLevel.LOT
SERIAL = TrackingLevel.SERIAL


def _component(
    key: str,
    owner: str,
    ref: int,
    name: str,
    description: str,
    storage: StorageClass,
    shelf_life: int | None,
    uom: str = "EA",
) -> ProductSpec:
    return ProductSpec(key, ref, name, description, LOT, storage, shelf_life, uom, owner)


# The catalogue tables below are kept one item per row, aligned by hand.
# fmt: off
COMPONENTS: tuple[ProductSpec, ...] = (
    _component("c-stent-tube", "supplier-alloys", 10001, "CoCr L605 stent tubing 1.8 mm",
               "Seamless cobalt-chromium (L605) hypotube for laser-cut stents.", AMBIENT, 1825,
               "MTR"),
    _component("c-ti-bar", "supplier-alloys", 10002, "Ti-6Al-4V ELI bar stock Ø20 mm",
               "Implant-grade titanium alloy bar, ASTM F136.", AMBIENT, None, "KGM"),
    _component("c-nitinol-wire", "supplier-alloys", 10003, "Nitinol wire 0.36 mm",
               "Superelastic NiTi wire for self-expanding frames, ASTM F2063.", AMBIENT, 1825,
               "MTR"),
    _component("c-pebax-tube", "supplier-polymer", 20001, "PEBAX 72D catheter tubing 0.9 mm",
               "Extruded polyether block amide tubing for catheter shafts.", AMBIENT, 1095, "MTR"),
    _component("c-silicone-tube", "supplier-polymer", 20002, "Silicone tubing 14–16 Fr",
               "Platinum-cured medical silicone, two-lumen profile.", AMBIENT, 1095, "MTR"),
    _component("c-pu-tube", "supplier-polymer", 20003, "Polyurethane triple-lumen tubing 7F",
               "Radiopaque thermoplastic polyurethane multi-lumen extrusion.", AMBIENT, 1095,
               "MTR"),
    _component("c-eptfe-tube", "supplier-polymer", 20004, "ePTFE tube 8 mm",
               "Expanded PTFE tube for vascular prostheses.", AMBIENT, 1825, "MTR"),
    _component("c-ab-ctni", "supplier-bioreagents", 30001, "Anti-cTnI monoclonal antibody",
               "Mouse monoclonal antibody pair against cardiac troponin I, 1 mg/mL.", FROZEN, 730,
               "MLT"),
    _component("c-ab-bnp", "supplier-bioreagents", 30002, "Anti-NT-proBNP monoclonal antibody",
               "Sheep/mouse antibody pair against NT-proBNP, 1 mg/mL.", FROZEN, 730, "MLT"),
    _component("c-buffer", "supplier-bioreagents", 30003, "Assay buffer concentrate 10×",
               "Phosphate-buffered saline with BSA and preservative.", CHILLED, 365, "LTR"),
    _component("c-cal-matrix", "supplier-bioreagents", 30004, "Calibrator matrix, human serum",
               "Analyte-depleted human serum base for calibrators and controls.", CHILLED, 365,
               "LTR"),
    _component("c-microparticles", "supplier-bioreagents", 30005,
               "Streptavidin magnetic microparticles",
               "Superparamagnetic microparticles, 1 µm, streptavidin-coated.", CHILLED, 540,
               "MLT"),
    _component("c-drape", "supplier-packaging", 40001, "Sterile procedure drape 120 × 150 cm",
               "Fluid-resistant SMS drape with fenestration.", AMBIENT, 1825),
    _component("c-tray", "supplier-packaging", 40002, "Thermoformed kit tray",
               "PETG tray with lid, for procedure kits.", AMBIENT, 1825),
    _component("c-pouch", "supplier-packaging", 40003, "Tyvek sterile-barrier pouch",
               "Peelable Tyvek/film pouch, ISO 11607.", AMBIENT, 1825),
    _component("c-syringe", "supplier-plastics", 50001, "Syringe 10 mL luer-lock",
               "Sterile single-use syringe.", AMBIENT, 1825),
    _component("c-needle", "supplier-plastics", 50002, "Hypodermic needle 18G × 1.5 in",
               "Sterile single-use needle.", AMBIENT, 1825),
    _component("c-drain-bag", "supplier-plastics", 50003, "Urine drainage bag 2 L",
               "Drainage bag with anti-reflux valve.", AMBIENT, 1825),
    _component("c-gauze", "supplier-plastics", 50004, "Sterile gauze swab 10 × 10 cm",
               "12-ply cotton gauze, pack of 5.", AMBIENT, 1825),
    _component("c-film-dressing", "supplier-plastics", 50005, "Transparent film dressing",
               "Polyurethane film dressing 6 × 7 cm.", AMBIENT, 1095),
    _component("c-drug-coating", "supplier-coatings", 60001, "Sirolimus coating formulation",
               "Sirolimus in biodegradable PLGA carrier, for spray coating.", CHILLED, 180, "MLT"),
    _component("c-hydro-coating", "supplier-coatings", 60002, "Hydrophilic coating solution",
               "UV-curable hydrophilic lubricious coating.", AMBIENT, 365, "MLT"),
    _component("c-balloon", "cmo", 70001, "PTCA balloon sub-assembly",
               "Semi-compliant nylon balloon bonded to PEBAX inner shaft.", AMBIENT, 1095),
    _component("c-leaflets", "cmo", 70002, "Bovine pericardial leaflet set",
               "Three glutaraldehyde-fixed bovine pericardial leaflets, sewn.", AMBIENT, 1095),
)


def _us(kind: AuthorisationKind, number: str, since: date) -> AuthorisationSpec:
    # FDA clearances and approvals have no expiry date.
    return AuthorisationSpec(kind, number, FDA, since, None)


def _eu(kind: AuthorisationKind, number: str, since: date, until: date | None,
        body: str = NB_MERIDIAN) -> AuthorisationSpec:
    return AuthorisationSpec(kind, number, body, since, until)


def _cn(number: str, since: date, until: date | None) -> AuthorisationSpec:
    # 国械注准 = national (class III), 苏械注准 = Jiangsu province (class II), 备 = class I filing.
    if "械备" in number:
        return AuthorisationSpec(K.NMPA_FILING, number, SUZHOU_AMR, since, until)
    authority = NMPA if number.startswith("国") else JIANGSU_MPA
    return AuthorisationSpec(K.NMPA_REGISTRATION, number, authority, since, until)


def _d(text: str) -> date:
    return date.fromisoformat(text)


# Family authorisations (one certificate covers every size of a family).
_VELA = (
    _us(K.FDA_PMA, "P210417", _d("2022-03-15")),
    _eu(K.EU_MDR_CERTIFICATE, "MDR 745213", _d("2023-02-01"), _d("2028-01-31")),
    _cn("国械注准20233130418", _d("2023-06-12"), _d("2028-06-11")),
)
# The valve is not approved in the US (investigational there): allocation must refuse US orders.
_AORTIS = (
    _eu(K.EU_MDR_CERTIFICATE, "NC-MDR-2024-0091", _d("2024-04-01"), _d("2029-03-31"),
        NB_NORDKAP),
    _cn("国械注准20243130207", _d("2024-09-20"), _d("2029-09-19")),
)
# The hip stem's Chinese registration lapsed at the end of 2025 (renewal pending).
_STRATA = (
    _us(K.FDA_510K, "K231874", _d("2023-11-02")),
    _eu(K.EU_MDR_CERTIFICATE, "MDR 745301", _d("2022-05-20"), _d("2027-05-19")),
    _cn("国械注准20203130655", _d("2021-01-01"), _d("2025-12-31")),
)
_KINETIC = (
    _us(K.FDA_510K, "K222981", _d("2022-12-08")),
    _eu(K.EU_MDR_CERTIFICATE, "MDR 745390", _d("2023-07-01"), _d("2028-06-30")),
    _cn("国械注准20243130088", _d("2024-02-26"), _d("2029-02-25")),
)
# The cage's EU certificate expired in September 2025.
_FUSIO = (
    _us(K.FDA_510K, "K240612", _d("2024-05-17")),
    _eu(K.EU_MDR_CERTIFICATE, "NC-MDR-2020-0347", _d("2020-10-01"), _d("2025-09-30"),
        NB_NORDKAP),
    _cn("国械注准20233130912", _d("2023-11-30"), _d("2028-11-29")),
)
_OSTEO = (
    _us(K.FDA_510K, "K201455", _d("2020-08-21")),
    _eu(K.EU_MDR_CERTIFICATE, "MDR 745402", _d("2023-03-01"), _d("2028-02-29")),
    _cn("国械注准20223130567", _d("2022-03-28"), _d("2027-03-27")),
)
_VASCULA = (
    _us(K.FDA_510K, "K192277", _d("2019-12-03")),
    _eu(K.EU_MDR_CERTIFICATE, "MDR 745455", _d("2024-01-15"), _d("2029-01-14")),
    _cn("国械注准20243130341", _d("2024-07-08"), _d("2029-07-07")),
)
_GLIDE = (
    _us(K.FDA_510K, "K212233", _d("2021-10-14")),
    _eu(K.EU_MDR_CERTIFICATE, "MDR 745219", _d("2023-02-01"), _d("2028-01-31")),
    _cn("国械注准20223030214", _d("2022-05-09"), _d("2027-05-08")),
)
_ACCESS = (
    _us(K.FDA_510K, "K203318", _d("2020-12-01")),
    _eu(K.EU_MDR_CERTIFICATE, "NC-MDR-2023-0158", _d("2023-05-01"), _d("2028-04-30"),
        NB_NORDKAP),
    _cn("苏械注准20222030147", _d("2022-01-17"), _d("2027-01-16")),
)
_GUIDE = (
    _us(K.FDA_510K, "K213390", _d("2021-12-20")),
    _eu(K.EU_MDR_CERTIFICATE, "MDR 745220", _d("2023-02-01"), _d("2028-01-31")),
    _cn("国械注准20223030288", _d("2022-06-30"), _d("2027-06-29")),
)
_DIAG = (
    _us(K.FDA_510K, "K191045", _d("2019-06-11")),
    _eu(K.EU_MDR_CERTIFICATE, "MDR 745221", _d("2023-02-01"), _d("2028-01-31")),
    _cn("国械注准20213030119", _d("2021-04-06"), _d("2026-04-05")),
)
_FLOW = (
    _us(K.FDA_510K, "K222105", _d("2022-09-02")),
    _eu(K.EU_MDR_CERTIFICATE, "MDR 745260", _d("2023-09-01"), _d("2028-08-31")),
    _cn("国械注准20233140476", _d("2023-08-14"), _d("2028-08-13")),
)
_UROSOFT = (
    _us(K.FDA_510K, "K180876", _d("2018-07-19")),
    _eu(K.EU_MDR_CERTIFICATE, "NC-MDR-2022-0233", _d("2022-11-01"), _d("2027-10-31"),
        NB_NORDKAP),
    _cn("苏械注准20232140318", _d("2023-03-20"), _d("2028-03-19")),
)
_VENO = (
    _us(K.FDA_510K, "K200731", _d("2020-04-28")),
    _eu(K.EU_MDR_CERTIFICATE, "NC-MDR-2022-0234", _d("2022-11-01"), _d("2027-10-31"),
        NB_NORDKAP),
    _cn("苏械注准20222140095", _d("2022-02-11"), _d("2027-02-10")),
)
_ACCESSORIES = (
    _us(K.FDA_510K, "K201902", _d("2020-10-05")),
    _eu(K.EU_MDR_CERTIFICATE, "NC-MDR-2023-0160", _d("2023-05-01"), _d("2028-04-30"),
        NB_NORDKAP),
    _cn("苏械注准20232030264", _d("2023-06-01"), _d("2028-05-31")),
)
_KITS_III = (
    _us(K.FDA_510K, "K230415", _d("2023-03-09")),
    _eu(K.EU_MDR_CERTIFICATE, "MDR 745502", _d("2024-03-01"), _d("2029-02-28")),
    _cn("国械注准20243140233", _d("2024-05-15"), _d("2029-05-14")),
)
_KITS_II = (
    _us(K.FDA_510K, "K230416", _d("2023-03-09")),
    _eu(K.EU_MDR_CERTIFICATE, "NC-MDR-2024-0012", _d("2024-02-01"), _d("2029-01-31"),
        NB_NORDKAP),
    _cn("苏械注准20242140152", _d("2024-04-22"), _d("2029-04-21")),
)
_DRESSING_KIT = (
    _us(K.FDA_EXEMPT, "D412876", _d("2021-05-03")),
    _eu(K.EU_SELF_DECLARATION, "DoC-LMD-2021-017", _d("2021-05-26"), None, SELF),
    _cn("苏苏械备20210112", _d("2021-08-09"), None),
)
# Not marketed in China (no filing): allocation must refuse CN orders.
_SUTURE_KIT = (
    _us(K.FDA_EXEMPT, "D412877", _d("2021-05-03")),
    _eu(K.EU_SELF_DECLARATION, "DoC-LMD-2021-018", _d("2021-05-26"), None, SELF),
)
_CTNI = (
    _us(K.FDA_510K, "K223057", _d("2022-11-21")),
    _eu(K.EU_IVDR_CERTIFICATE, "IVDR 745810", _d("2023-10-01"), _d("2028-09-30")),
    _cn("苏械注准20232400441", _d("2023-07-24"), _d("2028-07-23")),
)
_CTNI_CONTROLS = (
    _us(K.FDA_EXEMPT, "D413002", _d("2022-11-21")),
    _eu(K.EU_IVDR_CERTIFICATE, "IVDR 745811", _d("2023-10-01"), _d("2028-09-30")),
    _cn("苏苏械备20230045", _d("2023-07-24"), None),
)
_BNP = (
    _us(K.FDA_510K, "K231566", _d("2023-08-30")),
    _eu(K.EU_IVDR_CERTIFICATE, "IVDR 745822", _d("2024-01-01"), _d("2028-12-31")),
    _cn("苏械注准20242400067", _d("2024-01-29"), _d("2029-01-28")),
)
# The calibrator's Chinese registration only takes effect in mid-2027.
_BNP_CAL = (
    _us(K.FDA_510K, "K231567", _d("2023-08-30")),
    _eu(K.EU_IVDR_CERTIFICATE, "IVDR 745823", _d("2024-01-01"), _d("2028-12-31")),
    _cn("苏械注准20262400519", _d("2027-06-01"), _d("2032-05-31")),
)
_DDIMER = (
    _us(K.FDA_510K, "K210988", _d("2021-06-15")),
    _eu(K.EU_IVDR_CERTIFICATE, "IVDR 745830", _d("2024-05-01"), _d("2029-04-30")),
    _cn("国械注准20223400789", _d("2022-10-10"), _d("2027-10-09")),
)
_CRP = (
    _us(K.FDA_510K, "K190334", _d("2019-03-28")),
    _eu(K.EU_IVDR_CERTIFICATE, "NC-IVDR-2024-0044", _d("2024-06-01"), _d("2029-05-31"),
        NB_NORDKAP),
    _cn("苏械注准20212400230", _d("2021-09-13"), _d("2026-09-12")),
)
# Procalcitonin: IVDR certification still in progress, so no EU authorisation yet.
_PCT = (
    _us(K.FDA_510K, "K241120", _d("2024-07-02")),
    _cn("国械注准20243400310", _d("2024-10-21"), _d("2029-10-20")),
)


def _finished(key: str, ref: int, name: str, description: str, tracking: TrackingLevel,
              storage: StorageClass, shelf_life: int, model: str, classes: str,
              authorisations: tuple[AuthorisationSpec, ...],
              bom: tuple[tuple[str, str, str], ...], uom: str = "EA") -> ProductSpec:
    """``classes`` is "US/EU/CN" device classes, "-" where the region has none (IVD in the EU:
    IVDR risk classes are not MDR classes)."""
    us, eu, cn = (None if part == "-" else part for part in classes.split("/"))
    return ProductSpec(key, ref, name, description, tracking, storage, shelf_life, uom, "hub",
                       model, us, eu, cn, authorisations, bom)


def _b(*lines: tuple[str, str] | tuple[str, str, str]) -> tuple[tuple[str, str, str], ...]:
    return tuple((line[0], line[1], line[2] if len(line) == 3 else "EA") for line in lines)


_STENT_BOM = _b(("c-stent-tube", "0.025", "MTR"), ("c-drug-coating", "0.05", "MLT"),
                ("c-balloon", "1"), ("c-pouch", "1"))
_PTCA_BOM = _b(("c-balloon", "1"), ("c-pebax-tube", "1.45", "MTR"),
               ("c-hydro-coating", "0.2", "MLT"), ("c-pouch", "1"))
_HIP_BOM = _b(("c-ti-bar", "0.42", "KGM"), ("c-tray", "1"), ("c-pouch", "2"))
_CAGE_BOM = _b(("c-ti-bar", "0.06", "KGM"), ("c-pouch", "2"))
_TAVI_BOM = _b(("c-nitinol-wire", "1.8", "MTR"), ("c-leaflets", "1"), ("c-tray", "1"))
_FOLEY_BOM = _b(("c-silicone-tube", "0.45", "MTR"), ("c-pouch", "1"))

FINISHED: tuple[ProductSpec, ...] = (
    # Serial-tracked implants.
    _finished("vela-2515", 10001, "Vela sirolimus-eluting coronary stent system 2.5 × 15 mm",
              "Drug-eluting CoCr stent pre-mounted on a rapid-exchange delivery system.",
              SERIAL, AMBIENT, 1095, "VELA-DES", "III/III/III", _VELA, _STENT_BOM),
    _finished("vela-3018", 10002, "Vela sirolimus-eluting coronary stent system 3.0 × 18 mm",
              "Drug-eluting CoCr stent pre-mounted on a rapid-exchange delivery system.",
              SERIAL, AMBIENT, 1095, "VELA-DES", "III/III/III", _VELA, _STENT_BOM),
    _finished("vela-3523", 10003, "Vela sirolimus-eluting coronary stent system 3.5 × 23 mm",
              "Drug-eluting CoCr stent pre-mounted on a rapid-exchange delivery system.",
              SERIAL, AMBIENT, 1095, "VELA-DES", "III/III/III", _VELA, _STENT_BOM),
    _finished("aortis-23", 10011, "Aortis transcatheter aortic valve 23 mm",
              "Self-expanding nitinol frame with bovine pericardial leaflets.",
              SERIAL, AMBIENT, 1095, "AORTIS-TAVI", "III/III/III", _AORTIS, _TAVI_BOM),
    _finished("aortis-26", 10012, "Aortis transcatheter aortic valve 26 mm",
              "Self-expanding nitinol frame with bovine pericardial leaflets.",
              SERIAL, AMBIENT, 1095, "AORTIS-TAVI", "III/III/III", _AORTIS, _TAVI_BOM),
    _finished("strata-3", 10021, "Strata cementless hip stem, size 3",
              "Tapered titanium femoral stem with porous coating.",
              SERIAL, AMBIENT, 1825, "STRATA-HIP", "II/III/III", _STRATA, _HIP_BOM),
    _finished("strata-5", 10022, "Strata cementless hip stem, size 5",
              "Tapered titanium femoral stem with porous coating.",
              SERIAL, AMBIENT, 1825, "STRATA-HIP", "II/III/III", _STRATA, _HIP_BOM),
    _finished("kinetic-4", 10031, "Kinetic cruciate-retaining femoral component, size 4",
              "Total knee femoral component, cementless.",
              SERIAL, AMBIENT, 1825, "KINETIC-KNEE", "II/III/III", _KINETIC, _HIP_BOM),
    _finished("fusio-10", 10041, "Fusio titanium lumbar interbody cage 10 mm",
              "Additively manufactured TLIF cage.",
              SERIAL, AMBIENT, 1825, "FUSIO-CAGE", "II/IIb/III", _FUSIO, _CAGE_BOM),
    _finished("fusio-12", 10042, "Fusio titanium lumbar interbody cage 12 mm",
              "Additively manufactured TLIF cage.",
              SERIAL, AMBIENT, 1825, "FUSIO-CAGE", "II/IIb/III", _FUSIO, _CAGE_BOM),
    _finished("osteo-6h", 10051, "Osteo distal radius locking plate, 6-hole",
              "Anatomic titanium volar locking plate.",
              SERIAL, AMBIENT, 1825, "OSTEO-PLATE", "II/IIb/III", _OSTEO, _CAGE_BOM),
    _finished("vascula-8", 10061, "Vascula ePTFE vascular graft 8 mm × 40 cm",
              "Ringed ePTFE graft for peripheral bypass.",
              SERIAL, AMBIENT, 1825, "VASCULA-GRAFT", "II/III/III", _VASCULA,
              _b(("c-eptfe-tube", "0.4", "MTR"), ("c-tray", "1"), ("c-pouch", "1"))),
    # Lot-tracked catheters, guidewires and accessories.
    _finished("glide-2515", 20001, "Glide PTCA balloon dilatation catheter 2.5 × 15 mm",
              "Semi-compliant rapid-exchange balloon catheter.",
              LOT, AMBIENT, 1095, "GLIDE-PTCA", "II/III/III", _GLIDE, _PTCA_BOM),
    _finished("glide-3015", 20002, "Glide PTCA balloon dilatation catheter 3.0 × 15 mm",
              "Semi-compliant rapid-exchange balloon catheter.",
              LOT, AMBIENT, 1095, "GLIDE-PTCA", "II/III/III", _GLIDE, _PTCA_BOM),
    _finished("glide-3520", 20003, "Glide PTCA balloon dilatation catheter 3.5 × 20 mm",
              "Semi-compliant rapid-exchange balloon catheter.",
              LOT, AMBIENT, 1095, "GLIDE-PTCA", "II/III/III", _GLIDE, _PTCA_BOM),
    _finished("access-6f", 20011, "Access 6F radial introducer sheath 11 cm",
              "Hydrophilic-coated sheath with haemostatic valve.",
              LOT, AMBIENT, 1095, "ACCESS-SHEATH", "II/IIa/II", _ACCESS,
              _b(("c-pebax-tube", "0.11", "MTR"), ("c-hydro-coating", "0.1", "MLT"),
                 ("c-pouch", "1"))),
    _finished("guide-014", 20021, "Guide 0.014 in PTCA guidewire 190 cm",
              "Nitinol-core workhorse guidewire, hydrophilic tip.",
              LOT, AMBIENT, 1095, "GUIDE-WIRE", "II/III/III", _GUIDE,
              _b(("c-nitinol-wire", "1.9", "MTR"), ("c-hydro-coating", "0.05", "MLT"),
                 ("c-pouch", "1"))),
    _finished("diag-jl4", 20031, "Diag 5F diagnostic angiography catheter JL4",
              "Braided diagnostic catheter, Judkins left 4 curve.",
              LOT, AMBIENT, 1095, "DIAG-CATH", "II/III/III", _DIAG,
              _b(("c-pebax-tube", "1.0", "MTR"), ("c-pouch", "1"))),
    _finished("flow-7f", 20041, "Flow 7F triple-lumen central venous catheter 20 cm",
              "Radiopaque polyurethane CVC.",
              LOT, AMBIENT, 1095, "FLOW-CVC", "II/III/III", _FLOW,
              _b(("c-pu-tube", "0.2", "MTR"), ("c-pouch", "1"))),
    _finished("urosoft-14", 20051, "Urosoft 2-way silicone Foley catheter 14 Fr",
              "All-silicone Foley catheter, 10 mL balloon.",
              LOT, AMBIENT, 1825, "UROSOFT-FOLEY", "II/IIa/II", _UROSOFT, _FOLEY_BOM),
    _finished("urosoft-16", 20052, "Urosoft 2-way silicone Foley catheter 16 Fr",
              "All-silicone Foley catheter, 10 mL balloon.",
              LOT, AMBIENT, 1825, "UROSOFT-FOLEY", "II/IIa/II", _UROSOFT, _FOLEY_BOM),
    _finished("veno-20g", 20061, "Veno 20G safety IV cannula",
              "Shielded peripheral IV catheter with injection port.",
              LOT, AMBIENT, 1825, "VENO-IV", "II/IIa/II", _VENO,
              _b(("c-pu-tube", "0.03", "MTR"), ("c-needle", "1"), ("c-pouch", "1"))),
    _finished("seal-yvalve", 20071, "Seal haemostasis valve Y-connector",
              "Push-click haemostasis valve with torque device.",
              LOT, AMBIENT, 1825, "SEAL-YVALVE", "II/IIa/II", _ACCESSORIES,
              _b(("c-pouch", "1"),)),
    _finished("pressure-30", 20081, "Pressure 30 atm inflation device",
              "20 mL inflation syringe with manometer.",
              LOT, AMBIENT, 1825, "PRESSURE-INFL", "II/IIa/II", _ACCESSORIES,
              _b(("c-syringe", "1"), ("c-pouch", "1"))),
    # Lot-tracked procedure kits (several components each, some of them our own devices).
    _finished("kit-angio", 30001, "Angiography procedure kit",
              "Radial access angiography set.",
              LOT, AMBIENT, 730, "KIT-ANGIO", "II/III/III", _KITS_III,
              _b(("access-6f", "1"), ("guide-014", "1"), ("diag-jl4", "1"), ("c-drape", "1"),
                 ("c-syringe", "2"), ("c-tray", "1")), "KT"),
    _finished("kit-pci", 30002, "PCI procedure kit",
              "Balloon angioplasty set.",
              LOT, AMBIENT, 730, "KIT-PCI", "II/III/III", _KITS_III,
              _b(("glide-3015", "1"), ("guide-014", "1"), ("pressure-30", "1"),
                 ("seal-yvalve", "1"), ("c-drape", "1"), ("c-tray", "1")), "KT"),
    _finished("kit-cvc", 30003, "CVC insertion kit",
              "Central line set with maximal barrier drape.",
              LOT, AMBIENT, 730, "KIT-CVC", "II/III/III", _KITS_III,
              _b(("flow-7f", "1"), ("c-needle", "1"), ("c-syringe", "2"), ("c-drape", "1"),
                 ("c-gauze", "1"), ("c-tray", "1")), "KT"),
    _finished("kit-uro", 30004, "Urinary catheterisation kit",
              "Foley insertion set with closed drainage.",
              LOT, AMBIENT, 730, "KIT-URO", "II/IIa/II", _KITS_II,
              _b(("urosoft-14", "1"), ("c-drain-bag", "1"), ("c-syringe", "1"),
                 ("c-gauze", "1"), ("c-tray", "1")), "KT"),
    _finished("kit-iv", 30005, "IV start kit",
              "Peripheral IV insertion set.",
              LOT, AMBIENT, 730, "KIT-IV", "II/IIa/II", _KITS_II,
              _b(("veno-20g", "1"), ("c-film-dressing", "1"), ("c-gauze", "1"),
                 ("c-pouch", "1")), "KT"),
    _finished("kit-biopsy", 30006, "Bone marrow biopsy kit",
              "Aspiration and trephine biopsy set.",
              LOT, AMBIENT, 730, "KIT-BIOPSY", "II/IIa/II", _KITS_II,
              _b(("c-needle", "2"), ("c-syringe", "2"), ("c-drape", "1"), ("c-gauze", "2"),
                 ("c-tray", "1")), "KT"),
    _finished("kit-dressing", 30007, "Wound dressing change kit",
              "Sterile dressing change set.",
              LOT, AMBIENT, 1095, "KIT-DRESSING", "I/I/I", _DRESSING_KIT,
              _b(("c-gauze", "2"), ("c-film-dressing", "2"), ("c-pouch", "1")), "KT"),
    _finished("kit-suture", 30008, "Suture removal kit",
              "Sterile suture removal set.",
              LOT, AMBIENT, 1095, "KIT-SUTURE", "I/I/-", _SUTURE_KIT,
              _b(("c-gauze", "1"), ("c-pouch", "1")), "KT"),
    # Cold-chain IVD reagents (2–8 °C), lot-tracked.
    _finished("ctni-reagent", 40001, "Lumen hs-cTnI reagent kit, 100 tests",
              "High-sensitivity troponin I chemiluminescence assay. IVDR class C.",
              LOT, CHILLED, 365, "IVD-CTNI", "II/-/II", _CTNI,
              _b(("c-ab-ctni", "0.5", "MLT"), ("c-microparticles", "2.5", "MLT"),
                 ("c-buffer", "0.05", "LTR")), "KT"),
    _finished("ctni-calibrator", 40002, "Lumen hs-cTnI calibrator set",
              "Six-level calibrator set for the hs-cTnI assay. IVDR class C.",
              LOT, CHILLED, 180, "IVD-CTNI", "II/-/II", _CTNI,
              _b(("c-cal-matrix", "0.012", "LTR"), ("c-ab-ctni", "0.01", "MLT")), "KT"),
    _finished("ctni-control", 40003, "Lumen hs-cTnI control set, 2 levels",
              "Assayed quality controls for the hs-cTnI assay. IVDR class C.",
              LOT, CHILLED, 180, "IVD-CTNI-QC", "I/-/I", _CTNI_CONTROLS,
              _b(("c-cal-matrix", "0.008", "LTR"),), "KT"),
    _finished("bnp-reagent", 40011, "Lumen NT-proBNP reagent kit, 100 tests",
              "NT-proBNP chemiluminescence assay. IVDR class C.",
              LOT, CHILLED, 365, "IVD-BNP", "II/-/II", _BNP,
              _b(("c-ab-bnp", "0.5", "MLT"), ("c-microparticles", "2.5", "MLT"),
                 ("c-buffer", "0.05", "LTR")), "KT"),
    _finished("bnp-calibrator", 40012, "Lumen NT-proBNP calibrator set",
              "Six-level calibrator set for the NT-proBNP assay. IVDR class C.",
              LOT, CHILLED, 180, "IVD-BNP-CAL", "II/-/II", _BNP_CAL,
              _b(("c-cal-matrix", "0.012", "LTR"), ("c-ab-bnp", "0.01", "MLT")), "KT"),
    _finished("ddimer-reagent", 40021, "Lumen D-Dimer reagent kit, 100 tests",
              "Quantitative D-dimer immunoassay. IVDR class C.",
              LOT, CHILLED, 270, "IVD-DDIMER", "II/-/III", _DDIMER,
              _b(("c-microparticles", "3", "MLT"), ("c-buffer", "0.05", "LTR")), "KT"),
    _finished("crp-reagent", 40031, "Lumen CRP reagent kit, 200 tests",
              "C-reactive protein immunoassay. IVDR class B.",
              LOT, CHILLED, 365, "IVD-CRP", "II/-/II", _CRP,
              _b(("c-microparticles", "4", "MLT"), ("c-buffer", "0.08", "LTR")), "KT"),
    _finished("pct-reagent", 40041, "Lumen procalcitonin reagent kit, 100 tests",
              "Procalcitonin immunoassay for sepsis risk. IVDR class C (certification pending).",
              LOT, CHILLED, 270, "IVD-PCT", "II/-/III", _PCT,
              _b(("c-microparticles", "2.5", "MLT"), ("c-buffer", "0.05", "LTR")), "KT"),
)

# fmt: on

PRODUCTS: tuple[ProductSpec, ...] = (*COMPONENTS, *FINISHED)
