"""The codes raised by the quality context (inspections, lot release, NCR, CAPA, deviations,
change control, complaints, service records, documents)."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable codes of the quality context (never translated, never renamed)."""

    CAPA_ACTION_DONE = "capa.action_done"
    CAPA_ACTION_NOT_OWNER = "capa.action_not_owner"
    CAPA_ACTION_UNKNOWN = "capa.action_unknown"
    CAPA_ACTIONS_OPEN = "capa.actions_open"
    CAPA_EFFECTIVENESS_UNVERIFIED = "capa.effectiveness_unverified"
    CAPA_NO_ACTIONS = "capa.no_actions"
    CAPA_ROOT_CAUSE_MISSING = "capa.root_cause_missing"
    CAPA_UNKNOWN = "capa.unknown"

    CHANGE_ALREADY_ACKNOWLEDGED = "change.already_acknowledged"
    CHANGE_EFFECTIVE_DATE_MISSING = "change.effective_date_missing"
    CHANGE_IMPACT_MISSING = "change.impact_missing"
    CHANGE_NOT_NOTIFIED = "change.not_notified"
    CHANGE_NOT_YET_EFFECTIVE = "change.not_yet_effective"
    CHANGE_NOTHING_AFFECTED = "change.nothing_affected"

    COMPLAINT_CAPA_EXISTS = "complaint.capa_exists"
    COMPLAINT_CONCLUSION_MISSING = "complaint.conclusion_missing"
    COMPLAINT_HUB_ONLY_FIELD = "complaint.hub_only_field"
    COMPLAINT_INVESTIGATION_MISSING = "complaint.investigation_missing"
    COMPLAINT_NCR_EXISTS = "complaint.ncr_exists"
    COMPLAINT_RATIONALE_MISSING = "complaint.rationale_missing"
    COMPLAINT_REPORTABILITY_MISSING = "complaint.reportability_missing"
    COMPLAINT_UNKNOWN = "complaint.unknown"

    DEVIATION_RISK_MISSING = "deviation.risk_missing"
    DEVIATION_SUMMARY_MISSING = "deviation.summary_missing"
    DEVIATION_WINDOW_MISSING = "deviation.window_missing"
    DEVIATION_WINDOW_REVERSED = "deviation.window_reversed"

    INSPECTION_CHARACTERISTIC_DUPLICATE = "inspection.characteristic_duplicate"
    INSPECTION_CHARACTERISTIC_UNKNOWN = "inspection.characteristic_unknown"
    INSPECTION_DECIDED = "inspection.decided"
    INSPECTION_NO_PLAN = "inspection.no_plan"
    INSPECTION_NO_READINGS = "inspection.no_readings"
    INSPECTION_NOT_A_NUMBER = "inspection.not_a_number"
    INSPECTION_NOT_A_TEST_LAB = "inspection.not_a_test_lab"
    INSPECTION_NOT_THE_LAB = "inspection.not_the_lab"
    INSPECTION_PLAN_UNKNOWN = "inspection.plan_unknown"
    INSPECTION_RESULT_INVALID = "inspection.result_invalid"
    INSPECTION_RESULTS_MISSING = "inspection.results_missing"
    INSPECTION_SAMPLE_SIZE = "inspection.sample_size"
    INSPECTION_VERDICT_DIFFERS = "inspection.verdict_differs"

    LOT_RELEASE_ALREADY_REQUESTED = "lot_release.already_requested"
    LOT_RELEASE_INSPECTION_FAILED = "lot_release.inspection_failed"
    LOT_RELEASE_INSPECTION_MISSING = "lot_release.inspection_missing"
    LOT_RELEASE_LOT_UNDER_NCR = "lot_release.lot_under_ncr"
    LOT_RELEASE_NOTHING_IN_QUARANTINE = "lot_release.nothing_in_quarantine"

    NCR_DISPOSITION_MISSING = "ncr.disposition_missing"
    NCR_INSPECTION_SOURCE = "ncr.inspection_source"
    NCR_NO_SUPPLIER = "ncr.no_supplier"
    NCR_NOT_THE_SUPPLIER = "ncr.not_the_supplier"
    NCR_OWNER_HUB_ONLY = "ncr.owner_hub_only"
    NCR_RATIONALE_MISSING = "ncr.rationale_missing"
    NCR_RESPONSE_MISSING = "ncr.response_missing"
    NCR_SUPPLIER_NOT_OWN_PARTY = "ncr.supplier_not_own_party"
    NCR_UDI_REQUIRED = "ncr.udi_required"
    NCR_UNKNOWN = "ncr.unknown"

    RECORD_LOCKED_BY_STATE = "record.locked_by_state"
    RECORD_UNKNOWN = "record.unknown"

    SERVICE_SERIAL_REQUIRED = "service.serial_required"

    UDI_NO_DEVICE_IDENTIFIER = "udi.no_device_identifier"

    USER_UNKNOWN = "user.unknown"

    VALUE_REQUIRED = "value.required"
