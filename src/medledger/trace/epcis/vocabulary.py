"""The GS1 Core Business Vocabulary (CBV 2.0) terms that EPCIS events refer to.

Each CBV vocabulary (business steps, dispositions, business transaction types, source and
destination types, error reasons, sensor components) has three spellings of the same term:

* the bare name used in EPCIS 2.0 JSON/JSON-LD (``shipping``),
* the EPCIS 1.x URN (``urn:epcglobal:cbv:bizstep:shipping``),
* the GS1 Web URI (``https://ref.gs1.org/cbv/BizStep-shipping``), also reached from JSON-LD
  through the ``cbv:`` prefix (``cbv:BizStep-shipping``).

MedLedger stores the bare name for a standard term and the full URI for an extension term
(a company- or industry-specific value in its own namespace), so the same business step is
always the same string. Sensor measurement types and alert types live in the GS1 Web
Vocabulary (``https://gs1.org/voc/Temperature``) rather than in the CBV.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from medledger.trace.epcis.namespaces import expand_curie

CBV_WEB_BASE: Final = "https://ref.gs1.org/cbv/"
GS1_VOC_BASE: Final = "https://gs1.org/voc/"


class UnknownVocabularyTerm(ValueError):
    """A bare word that is not a term of the CBV vocabulary it was given for."""

    def __init__(self, vocabulary: CbvVocabulary, value: str) -> None:
        super().__init__(f"{value!r} is not a standard CBV {vocabulary.label}")
        self.vocabulary = vocabulary
        self.value = value


@dataclass(frozen=True)
class CbvVocabulary:
    """One CBV vocabulary: its terms and the URI forms in which they may be written."""

    key: str
    label: str
    terms: frozenset[str]
    web_prefix: str
    urn_prefix: str | None

    @property
    def web_uri_prefixes(self) -> tuple[str, ...]:
        """Every Web URI prefix under which GS1 has published this vocabulary."""
        local = self.web_prefix[len(CBV_WEB_BASE) :]
        return (
            self.web_prefix,
            "http://ref.gs1.org/cbv/" + local,
            "https://ns.gs1.org/cbv/" + local,
            "http://ns.gs1.org/cbv/" + local,
            GS1_VOC_BASE + local,
            "http://gs1.org/voc/" + local,
        )

    def cbv_name(self, value: str) -> str | None:
        """Return the term name if ``value`` is written in one of this vocabulary's forms.

        A bare word is returned unchanged; ``urn:epcglobal:cbv:bizstep:x`` and
        ``https://ref.gs1.org/cbv/BizStep-x`` both give ``x``. The name is returned whether
        or not it is a standard term; anything else (an extension URI) gives ``None``.
        """
        if _is_bare_word(value):
            return value
        if self.urn_prefix is not None and value.lower().startswith(self.urn_prefix):
            return value[len(self.urn_prefix) :] or None
        for prefix in self.web_uri_prefixes:
            if value.startswith(prefix):
                return value[len(prefix) :] or None
        return None

    def is_standard(self, value: str) -> bool:
        """True if ``value`` (in any of its spellings) is a standard term of this vocabulary."""
        return self.cbv_name(value) in self.terms

    def urn(self, name: str) -> str:
        """The EPCIS 1.x URN of a term (``urn:epcglobal:cbv:bizstep:shipping``)."""
        if self.urn_prefix is None:
            raise ValueError(f"the CBV {self.label} vocabulary has no URN form")
        return self.urn_prefix + name

    def web_uri(self, name: str) -> str:
        """The GS1 Web URI of a term (``https://ref.gs1.org/cbv/BizStep-shipping``)."""
        return self.web_prefix + name


BIZ_STEP: Final = CbvVocabulary(
    key="bizStep",
    label="business step",
    terms=frozenset(
        {
            "accepting",
            "arriving",
            "assembling",
            "collecting",
            "commissioning",
            "consigning",
            "creating_class_instance",
            "cycle_counting",
            "decommissioning",
            "departing",
            "destroying",
            "disassembling",
            "dispensing",
            "encoding",
            "entering_exiting",
            "holding",
            "inspecting",
            "installing",
            "killing",
            "loading",
            "other",
            "packing",
            "picking",
            "receiving",
            "removing",
            "repackaging",
            "repairing",
            "replacing",
            "reserving",
            "retail_selling",
            "sampling",
            "sensor_reporting",
            "shipping",
            "staging_outbound",
            "stock_taking",
            "stocking",
            "storing",
            "transporting",
            "unloading",
            "unpacking",
            "void_shipping",
        }
    ),
    web_prefix=CBV_WEB_BASE + "BizStep-",
    urn_prefix="urn:epcglobal:cbv:bizstep:",
)

DISPOSITION: Final = CbvVocabulary(
    key="disposition",
    label="disposition",
    terms=frozenset(
        {
            "active",
            "available",
            "completeness_inferred",
            "completeness_verified",
            "conformant",
            "container_closed",
            "container_open",
            "damaged",
            "destroyed",
            "dispensed",
            "disposed",
            "encoded",
            "expired",
            "in_progress",
            "in_transit",
            "inactive",
            "mismatch_class",
            "mismatch_instance",
            "mismatch_quantity",
            "needs_replacement",
            "no_pedigree_match",
            "non_conformant",
            "non_sellable_other",
            "partially_dispensed",
            "recalled",
            "reserved",
            "retail_sold",
            "returned",
            "sellable_accessible",
            "sellable_not_accessible",
            "stolen",
            "unavailable",
            "unknown",
        }
    ),
    web_prefix=CBV_WEB_BASE + "Disp-",
    urn_prefix="urn:epcglobal:cbv:disp:",
)

BIZ_TRANSACTION_TYPE: Final = CbvVocabulary(
    key="bizTransactionType",
    label="business transaction type",
    terms=frozenset(
        {
            "bol",
            "cert",
            "desadv",
            "inv",
            "pedigree",
            "po",
            "poc",
            "prodorder",
            "recadv",
            "rma",
            "testprd",
            "testres",
            "upevt",
        }
    ),
    web_prefix=CBV_WEB_BASE + "BTT-",
    urn_prefix="urn:epcglobal:cbv:btt:",
)

SOURCE_DESTINATION_TYPE: Final = CbvVocabulary(
    key="sourceDestinationType",
    label="source/destination type",
    terms=frozenset({"owning_party", "possessing_party", "location"}),
    web_prefix=CBV_WEB_BASE + "SDT-",
    urn_prefix="urn:epcglobal:cbv:sdt:",
)

ERROR_REASON: Final = CbvVocabulary(
    key="errorReason",
    label="error reason",
    terms=frozenset({"did_not_occur", "incorrect_data"}),
    web_prefix=CBV_WEB_BASE + "ER-",
    urn_prefix="urn:epcglobal:cbv:er:",
)

SENSOR_COMPONENT: Final = CbvVocabulary(
    key="component",
    label="sensor component",
    terms=frozenset(
        {
            "x",
            "y",
            "z",
            "axial_distance",
            "azimuth",
            "height",
            "spherical_radius",
            "polar_angle",
            "elevation_angle",
            "easting",
            "northing",
            "latitude",
            "longitude",
            "altitude",
        }
    ),
    web_prefix=CBV_WEB_BASE + "Comp-",
    urn_prefix=None,
)

CBV_VOCABULARIES: Final[tuple[CbvVocabulary, ...]] = (
    BIZ_STEP,
    DISPOSITION,
    BIZ_TRANSACTION_TYPE,
    SOURCE_DESTINATION_TYPE,
    ERROR_REASON,
    SENSOR_COMPONENT,
)

# GS1 Web Vocabulary measurement types allowed as bare names in a sensorReport ``type``
# (the enumeration of the EPCIS 2.0.1 JSON schema and JSON-LD context).
MEASUREMENT_TYPES: Final = frozenset(
    {
        "AbsoluteHumidity",
        "AbsorbedDose",
        "AbsorbedDoseRate",
        "Acceleration",
        "Radioactivity",
        "Altitude",
        "AmountOfSubstance",
        "AmountOfSubstancePerUnitVolume",
        "Angle",
        "AngularAcceleration",
        "AngularMomentum",
        "AngularVelocity",
        "Area",
        "Capacitance",
        "Conductance",
        "Conductivity",
        "Count",
        "Density",
        "Dimensionless",
        "DoseEquivalent",
        "DoseEquivalentRate",
        "DynamicViscosity",
        "ElectricCharge",
        "ElectricCurrent",
        "ElectricCurrentDensity",
        "ElectricFieldStrength",
        "Energy",
        "Exposure",
        "Force",
        "Frequency",
        "Illuminance",
        "Inductance",
        "Irradiance",
        "KinematicViscosity",
        "Length",
        "LinearMomentum",
        "Luminance",
        "LuminousFlux",
        "LuminousIntensity",
        "MagneticFlux",
        "MagneticFluxDensity",
        "MagneticVectorPotential",
        "Mass",
        "MassConcentration",
        "MassFlowRate",
        "MassPerAreaTime",
        "MemoryCapacity",
        "MolalityOfSolute",
        "MolarEnergy",
        "MolarMass",
        "MolarVolume",
        "Power",
        "Pressure",
        "RadiantFlux",
        "RadiantIntensity",
        "RelativeHumidity",
        "Resistance",
        "Resistivity",
        "SolidAngle",
        "SpecificVolume",
        "Speed",
        "SurfaceDensity",
        "SurfaceTension",
        "Temperature",
        "Time",
        "Torque",
        "Voltage",
        "Volume",
        "VolumeFlowRate",
        "VolumeFraction",
        "VolumetricFlux",
        "Wavenumber",
    }
)

SENSOR_ALERT_TYPES: Final = frozenset({"ALARM_CONDITION", "ERROR_CONDITION"})

EVENT_TYPES: Final = frozenset(
    {
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    }
)

ACTIONS: Final = frozenset({"ADD", "OBSERVE", "DELETE"})

_BARE_WORD = re.compile(r"[^:/\s]+")


def _is_bare_word(value: str) -> bool:
    return _BARE_WORD.fullmatch(value) is not None


def is_bare_word(value: str) -> bool:
    """True if ``value`` is a plain word, not a URI or CURIE (it contains no ``:`` or ``/``)."""
    return _is_bare_word(value)


def normalise_term(
    value: str, vocabulary: CbvVocabulary, namespaces: Mapping[str, str] | None = None
) -> str:
    """Return the storage form of a vocabulary value.

    Standard terms become their bare CBV name in whichever spelling they arrive
    (``urn:epcglobal:cbv:bizstep:shipping``, ``cbv:BizStep-shipping`` → ``shipping``).
    Extension terms keep their full URI, with a declared CURIE prefix expanded. A bare
    word that is not a standard term raises :class:`UnknownVocabularyTerm`: it has no
    namespace and so no meaning outside the sender's systems.
    """
    expanded = expand_curie(value, namespaces)
    name = vocabulary.cbv_name(expanded)
    if name is not None and name in vocabulary.terms:
        return name
    if _is_bare_word(expanded):
        raise UnknownVocabularyTerm(vocabulary, value)
    return expanded


def normalise_biz_step(value: str, namespaces: Mapping[str, str] | None = None) -> str:
    """Bare CBV name of a standard business step, or the full URI of an extension."""
    return normalise_term(value, BIZ_STEP, namespaces)


def normalise_disposition(value: str, namespaces: Mapping[str, str] | None = None) -> str:
    """Bare CBV name of a standard disposition, or the full URI of an extension."""
    return normalise_term(value, DISPOSITION, namespaces)


def cbv_web_uri(
    value: str, vocabulary: CbvVocabulary, namespaces: Mapping[str, str] | None = None
) -> str:
    """The GS1 Web URI of a standard term in any spelling; other values expanded as URIs.

    This is the form the CBV 2.0 event hash uses (``https://ref.gs1.org/cbv/Disp-in_transit``).
    A term in a CBV namespace that is not standard is still written in the Web URI form, and
    a bare unknown word is returned unchanged.
    """
    expanded = expand_curie(value, namespaces)
    name = vocabulary.cbv_name(expanded)
    if name is None:
        return expanded
    if _is_bare_word(expanded) and name not in vocabulary.terms:
        return expanded
    return vocabulary.web_uri(name)


def measurement_type_uri(value: str, namespaces: Mapping[str, str] | None = None) -> str:
    """Expand a sensorReport ``type`` or ``exception`` to its GS1 Web Vocabulary URI.

    Bare standard names (``Temperature``, ``ALARM_CONDITION``) become
    ``https://gs1.org/voc/…``; CURIEs with a declared prefix are expanded; anything else is
    returned unchanged.
    """
    if value in MEASUREMENT_TYPES or value in SENSOR_ALERT_TYPES:
        gs1 = (namespaces or {}).get("gs1", GS1_VOC_BASE)
        return gs1 + value
    return expand_curie(value, namespaces)


#: The attributes of a sensor element's ``sensorMetadata`` and of each ``sensorReport``, in the
#: order of the EPCIS 2.0 XSD, which is also the order the CBV 2.0 event hash uses (§8.9).
SENSOR_METADATA_FIELDS: Final = (
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
)
SENSOR_REPORT_FIELDS: Final = (
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
)
