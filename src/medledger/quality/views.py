"""HTML pages: quality home, NCR/CAPA/change lists and record pages with their workflow buttons
and the signature dialog, printable records, the partner's view of what is shared with it.

The pages call the same services as the API: a step refused on the page is refused with the same
code and message, and a refused signature is kept (audit, signing lock) exactly as over the API.
The signature dialog is a server-rendered ``<dialog open>`` (``?step=<action>``), so it works
without JavaScript and on a phone.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select

from medledger.catalog.models import Product
from medledger.compliance.signables import record_content
from medledger.compliance.signing import (
    SigningPolicy,
    failed_attempts_kept,
    second_factor_required,
)
from medledger.core.db import utcnow
from medledger.core.errors import DomainError
from medledger.core.principal import Permission
from medledger.parties.models import Party, User
from medledger.parties.views import options, submit, who
from medledger.quality import capa as capa_service
from medledger.quality import change_control, kpi, lot_release, service
from medledger.quality import complaint as complaint_service
from medledger.quality import deviation as deviation_service
from medledger.quality import inspection as inspection_service
from medledger.quality import ncr as ncr_service
from medledger.quality import repository as repo
from medledger.quality.inspection_schemas import InspectionIn, LotReleaseIn
from medledger.quality.lists import (
    RECORD_LISTS,
    SERVICE_KIND_LABELS,
    SERVICE_OUTCOME_LABELS,
    SERVICE_RECORD_LIST,
)
from medledger.quality.records import RECORD_KINDS, WORKFLOWS
from medledger.quality.schemas import (
    AcknowledgeIn,
    CapaActionDoneIn,
    CapaActionIn,
    CapaIn,
    CapaUpdate,
    ChangeIn,
    ChangeUpdate,
    ComplaintIn,
    ComplaintNcrIn,
    ComplaintUpdate,
    DeviationIn,
    DeviationUpdate,
    NcrIn,
    NcrUpdate,
    ServiceRecordIn,
    SignatureIn,
    SupplierResponseIn,
    TransitionIn,
)
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.lists import list_page
from medledger.web.nav import N_, NavEntry, register_home_panel, register_nav
from medledger.web.ui import Ui, UiPage, UiRoute, templates

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("quality", N_("Quality"), "/quality", Permission.QUALITY_READ, order=96))

LOT_ROWS = 3
# Derived from the one declaration of each kind (quality.records).
KIND_PATHS = {kind: spec.path for kind, spec in RECORD_KINDS.items()}
KIND_LABELS = {kind: spec.label for kind, spec in RECORD_KINDS.items()}
# Kinds a partner user (or the shop floor) may create: it reports them.
REPORTED_KINDS = frozenset(kind for kind, spec in RECORD_KINDS.items() if spec.reported_by_partners)
HARM_LABELS = {
    "none": N_("no harm"),
    "malfunction": N_("malfunction"),
    "injury": N_("injury"),
    "serious_injury": N_("serious injury"),
    "death": N_("death"),
}
REPORTABLE_CHOICES = {
    "": N_("not decided"),
    "true": N_("reportable"),
    "false": N_("not reportable"),
}
DEVIATION_KIND_LABELS = {"planned": N_("planned"), "unplanned": N_("unplanned")}
SEVERITY_LABELS = {"minor": N_("minor"), "major": N_("major"), "critical": N_("critical")}
SOURCE_LABELS = {
    "manual": N_("raised by hand"),
    "partner_report": N_("partner's report"),
    "complaint": N_("complaint"),
    "inspection": N_("failed inspection"),
}
DISPOSITION_LABELS = {
    "use_as_is": N_("use as is"),
    "rework": N_("rework"),
    "scrap": N_("scrap"),
    "return_to_supplier": N_("return to supplier"),
}
MEANING_LABELS = {
    "authored": N_("authored"),
    "reviewed": N_("reviewed"),
    "approved": N_("approved"),
    "released": N_("released"),
    "rejected": N_("rejected"),
    "closed": N_("closed"),
}
# What the signer declares in the dialog (21 CFR 11.50: the meaning is part of the signature).
MEANING_STATEMENTS = {
    "authored": N_("I am the author of this record version."),
    "reviewed": N_("I have reviewed this record version."),
    "approved": N_("I approve this record version."),
    "released": N_("I release this record version."),
    "rejected": N_("I reject this record version."),
    "closed": N_("I close this record version."),
}
TASK_WHY = {
    "owner": N_("you own it"),
    "approval": N_("waiting for approval"),
    "supplier_response": N_("waiting for your answer"),
    "notice": N_("acknowledge the change"),
    "results": N_("enter the results"),
    "overdue": N_("overdue"),
}


def _policy(ui: Ui) -> SigningPolicy:
    return SigningPolicy.from_settings(ui.request.app.state.settings)


def _labels(ui: Ui) -> dict[str, Any]:
    return {
        "kind_labels": KIND_LABELS,
        "kind_paths": KIND_PATHS,
        "severity_labels": SEVERITY_LABELS,
        "source_labels": SOURCE_LABELS,
        "disposition_labels": DISPOSITION_LABELS,
        "meaning_labels": MEANING_LABELS,
        "meaning_statements": MEANING_STATEMENTS,
        "task_why": TASK_WHY,
        "deviation_kind_labels": DEVIATION_KIND_LABELS,
        "harm_labels": HARM_LABELS,
        "service_kind_labels": SERVICE_KIND_LABELS,
        "service_outcome_labels": SERVICE_OUTCOME_LABELS,
        "kinds": tuple(KIND_PATHS),
        "states": {kind: w.states for kind, w in WORKFLOWS.items()},
    }


def _names(ui: Ui) -> dict[str, dict[int, str]]:
    """Names of parties, hub users and products for the records on a page."""
    principal = who(ui)
    parties = {
        p.id: p.name
        for p in ui.session.scalars(select(Party).where(Party.tenant_id == principal.tenant_id))
    }
    users = {
        u.id: u.display_name
        for u in ui.session.scalars(select(User).where(User.tenant_id == principal.tenant_id))
        if principal.sees_all_parties or u.party_id == principal.party_id
    }
    products = {
        p.id: f"{p.name} ({p.gtin})"
        for p in ui.session.scalars(select(Product).where(Product.tenant_id == principal.tenant_id))
    }
    return {"parties": parties, "users": users, "products": products}


def _hub_users(ui: Ui) -> list[tuple[str, str]]:
    principal = who(ui)
    return [
        (str(u.id), u.display_name)
        for u in ui.session.scalars(
            select(User)
            .where(
                User.tenant_id == principal.tenant_id,
                User.party_id == principal.hub_party_id,
                User.active.is_(True),
            )
            .order_by(User.display_name)
        )
    ]


def _partner_options(ui: Ui) -> list[tuple[str, str]]:
    principal = who(ui)
    return [
        (str(p.id), p.name)
        for p in ui.session.scalars(
            select(Party)
            .where(Party.tenant_id == principal.tenant_id, Party.id != principal.hub_party_id)
            .order_by(Party.name)
        )
    ]


# --- quality home and the start-page panel ----------------------------------------------------


@router.get("/quality")
def quality_home(ui: UiPage) -> Response:
    """My tasks, overdue items, open NCRs, CAPAs and changes (a partner: what is shared)."""
    principal = who(ui)
    counts = service.open_counts(ui.session, principal)
    recent = {
        kind: service.list_records(ui.session, principal, kind, open_only=True, page_size=10)[0]
        for kind in KIND_PATHS
    }
    return ui.render(
        "quality/home.html",
        tasks=service.my_tasks(ui.session, principal),
        counts=counts,
        recent=recent,
        names=_names(ui),
        can_write=principal.can(Permission.QUALITY_WRITE),
        can_report=principal.can(Permission.QUALITY_REPORT),
        kpi_months=kpi.inspection_time(ui.session, principal, "month")
        if principal.sees_all_parties
        else [],
        **_labels(ui),
    )


def _home_panel(ui: Ui) -> Markup | None:
    """The start page's quality panel: the user's tasks, overdue first."""
    principal = ui.principal
    if principal is None or not principal.can(Permission.QUALITY_READ):
        return None
    tasks = service.my_tasks(ui.session, principal, limit=10)
    template = templates.get_template("quality/_home_panel.html")
    return Markup(template.render(ui.context(tasks=tasks, **_labels(ui))))


register_home_panel("quality", _home_panel)


# --- lists -----------------------------------------------------------------------------------


@router.get("/quality/ncrs")
def ncr_list(ui: UiPage) -> Response:
    return list_page(ui, RECORD_LISTS["ncr"])


@router.get("/quality/capas")
def capa_list(ui: UiPage) -> Response:
    return list_page(ui, RECORD_LISTS["capa"])


@router.get("/quality/changes")
def change_list(ui: UiPage) -> Response:
    return list_page(ui, RECORD_LISTS["change"])


@router.get("/quality/deviations")
def deviation_list(ui: UiPage) -> Response:
    return list_page(ui, RECORD_LISTS["deviation"])


@router.get("/quality/complaints")
def complaint_list(ui: UiPage) -> Response:
    return list_page(ui, RECORD_LISTS["complaint"])


@router.get("/quality/inspections")
def inspection_list(ui: UiPage) -> Response:
    return list_page(ui, RECORD_LISTS["inspection"])


@router.get("/quality/lot-releases")
def lot_release_list(ui: UiPage) -> Response:
    return list_page(ui, RECORD_LISTS["lot_release"])


def _inspection_kinds(ui: Ui) -> list[tuple[str, str]]:
    from medledger.quality.inspection_views import INSPECTION_KIND_LABELS

    return options(ui, INSPECTION_KIND_LABELS, INSPECTION_KIND_LABELS)


# --- creating --------------------------------------------------------------------------------


def _new_page(ui: Ui, kind: str, form: FormState[Any]) -> Response:
    principal = who(ui)
    products = [
        (str(p.id), f"{p.name} ({p.gtin})")
        for p in ui.session.scalars(
            select(Product).where(Product.tenant_id == principal.tenant_id).order_by(Product.name)
        )
    ]
    return ui.render(
        "quality/new.html",
        status=form.status,
        kind=kind,
        form=form,
        lot_rows=LOT_ROWS,
        products=products,
        partners=_partner_options(ui),
        hub_users=_hub_users(ui),
        severity_options=options(ui, SEVERITY_LABELS, SEVERITY_LABELS),
        deviation_kind_options=options(ui, DEVIATION_KIND_LABELS, DEVIATION_KIND_LABELS),
        harm_options=options(ui, HARM_LABELS, HARM_LABELS),
        inspection_kind_options=_inspection_kinds(ui),
        labs=[
            (str(p.id), p.name)
            for p in ui.session.scalars(
                select(Party).where(Party.tenant_id == principal.tenant_id).order_by(Party.name)
            )
            if "test_lab" in (p.roles or [])
        ],
        source_options=options(
            ui,
            SOURCE_LABELS,
            ["manual", "partner_report", "complaint"]
            if principal.sees_all_parties
            else ["partner_report", "complaint"],
        ),
        **_labels(ui),
    )


@router.get("/quality/{kind_path}/new")
def record_new(ui: UiPage, kind_path: str) -> Response:
    kind = _kind(kind_path)
    principal = who(ui)
    principal.require(
        Permission.QUALITY_REPORT if kind in REPORTED_KINDS else Permission.QUALITY_WRITE
    )
    values = {
        "severity": "major",
        "kind": "incoming" if kind == "inspection" else "unplanned",
        "harm": "none",
    }
    for key in ("gtin", "lot"):
        if ui.request.query_params.get(key):
            values[key] = ui.request.query_params[key][:20]
    if not principal.sees_all_parties:
        values["source"] = "complaint"
    return _new_page(ui, kind, empty_form(ui.locale, values))


_CREATE: dict[str, tuple[Any, Any]] = {
    "ncr": (NcrIn, ncr_service.raise_ncr),
    "capa": (CapaIn, capa_service.create_capa),
    "change": (ChangeIn, change_control.create_change),
    "deviation": (DeviationIn, deviation_service.create_deviation),
    "complaint": (ComplaintIn, complaint_service.create_complaint),
    "inspection": (InspectionIn, inspection_service.create_inspection),
    "lot_release": (LotReleaseIn, lot_release.request_release),
}
_LISTS = frozenset({"affected_product_ids", "affected_bom_ids", "extra_party_ids"})


@router.post("/quality/{kind_path}/new")
def record_create(ui: UiPage, kind_path: str) -> Response:
    kind = _kind(kind_path)
    schema, create = _CREATE[kind]
    extra: dict[str, Any] = {}
    if kind == "change" and ui.form is not None:
        documents = str(ui.form.get("affected_documents_text", ""))
        extra["affected_documents"] = [d.strip() for d in documents.splitlines() if d.strip()]
    state: FormState[Any] = parse_form(
        schema,
        ui.form,
        ui.locale,
        rows=frozenset({"affected_lots"}) if kind in ("ncr", "deviation") else frozenset(),
        lists=_LISTS if kind == "change" else frozenset(),
        skip=frozenset({"affected_documents_text"}),
        extra=extra,
    )
    record = submit(ui, state, lambda data: create(ui.session, who(ui), data))
    if record is not None:
        return ui.redirect(f"/quality/{kind_path}/{record.id}?saved=1")
    return _new_page(ui, kind, state)


def _kind(kind_path: str) -> str:
    for kind, path in KIND_PATHS.items():
        if path == kind_path:
            return kind
    from medledger.core.errors import NotFound

    raise NotFound("{entity} {id} was not found.", params={"entity": kind_path, "id": ""})


# --- record pages ----------------------------------------------------------------------------


def _record_page(
    ui: Ui,
    kind: str,
    record_id: int,
    *,
    step: str | None = None,
    step_form: FormState[Any] | None = None,
    edit_form: FormState[Any] | None = None,
    side_form: FormState[Any] | None = None,
    printable: bool = False,
) -> Response:
    principal = who(ui)
    record = service.get_record(ui.session, principal, kind, record_id)
    view = service.view(ui.session, principal, kind, record)
    offers = {o.transition.action: o for o in view.offers}
    step = step or ui.request.query_params.get("step") or None
    dialog = offers.get(step) if step else None
    extra: dict[str, Any] = {}
    if kind == "capa":
        extra["actions"] = repo.capa_actions(ui.session, [record.id])[record.id]
        extra["editable"] = sorted(capa_service.EDITABLE.get(record.state, frozenset()))
    elif kind == "change":
        extra["notices"] = change_control.notices(ui.session, principal, record)
        extra["editable"] = ["all"] if record.state == "draft" else []
        extra["own_notice"] = next(
            (n for n in extra["notices"] if n.party_id == principal.party_id), None
        )
    elif kind == "deviation":
        allowed = deviation_service.EDITABLE.get(record.state, frozenset())
        extra["editable"] = ["all"] if allowed is None else sorted(allowed)
    elif kind == "complaint":
        extra["editable"] = sorted(complaint_service.EDITABLE.get(record.state, frozenset()))
        extra["services"] = (
            complaint_service.service_records(
                ui.session, principal, gtin=record.udi_gtin, serial=record.udi_serial, page_size=20
            )[0]
            if record.udi_serial
            else []
        )
        extra["reportable_options"] = options(ui, REPORTABLE_CHOICES, REPORTABLE_CHOICES)
        extra["harm_options"] = options(ui, HARM_LABELS, HARM_LABELS)
    elif kind in ("inspection", "lot_release"):
        extra.update(_lot_extra(ui, kind, record))
    else:
        extra["editable"] = ["all"] if record.state in ncr_service.EDITABLE else []
    if printable:
        extra["content"] = record_content(ui.session, kind, record)["content"]
        extra["now"] = utcnow()
    status = next(
        (f.status for f in (step_form, edit_form, side_form) if f is not None and f.status != 200),
        200,
    )
    return ui.render(
        "quality/print.html" if printable else f"quality/{kind}.html",
        status=status,
        kind=kind,
        record=record,
        view=view,
        dialog=dialog,
        second_factor=dialog is not None and second_factor_required(ui.session, principal.user_id),
        step_form=step_form or empty_form(ui.locale),
        edit_form=edit_form or empty_form(ui.locale),
        side_form=side_form or empty_form(ui.locale),
        names=_names(ui),
        hub_users=_hub_users(ui),
        partners=_partner_options(ui),
        can_write=principal.can(Permission.QUALITY_WRITE),
        can_report=principal.can(Permission.QUALITY_REPORT),
        disposition_options=options(ui, DISPOSITION_LABELS, DISPOSITION_LABELS),
        severity_options=options(ui, SEVERITY_LABELS, SEVERITY_LABELS),
        deviation_kind_options=options(ui, DEVIATION_KIND_LABELS, DEVIATION_KIND_LABELS),
        path=f"/quality/{KIND_PATHS[kind]}/{record.id}",
        **extra,
        **_labels(ui),
    )


def _lot_extra(ui: Ui, kind: str, record: Any) -> dict[str, Any]:
    from medledger.inventory import service as inventory
    from medledger.inventory.views import STATUS_LABELS
    from medledger.quality.inspection_views import INSPECTION_KIND_LABELS, VERDICT_LABELS

    principal = who(ui)
    extra: dict[str, Any] = {
        "editable": [],
        "inspection_kind_labels": INSPECTION_KIND_LABELS,
        "verdict_labels": VERDICT_LABELS,
        "stock_status_labels": STATUS_LABELS,
    }
    if kind == "inspection":
        extra["can_enter"] = record.state == "open" and (
            principal.can(Permission.QUALITY_WRITE)
            if principal.sees_all_parties
            else record.lab_party_id == principal.party_id
        )
    else:
        extra["quantities"] = (
            inventory.lot_quantities(ui.session, principal.tenant_id, record.gtin, record.lot)
            if principal.can(Permission.INVENTORY_READ)
            else {}
        )
    return extra


@router.get("/quality/{kind_path}/{record_id}")
def record_page(ui: UiPage, kind_path: str, record_id: int) -> Response:
    """A record with its signatures (checked against this version), history and workflow
    buttons; ``?step=<action>`` opens the signature dialog for that step."""
    return _record_page(ui, _kind(kind_path), record_id)


@router.get("/quality/{kind_path}/{record_id}/print")
def record_print(ui: UiPage, kind_path: str, record_id: int) -> Response:
    """The printable record: every field, its signatures with their manifestation, history."""
    return _record_page(ui, _kind(kind_path), record_id, printable=True)


@router.post("/quality/{kind_path}/{record_id}/transitions")
def record_step(ui: UiPage, kind_path: str, record_id: int) -> Response:
    """Take a workflow step from the record page (with the signature dialog's password)."""
    kind = _kind(kind_path)
    form = ui.form
    action = str(form.get("action", "")) if form is not None else ""
    password = str(form.get("password", "")) if form is not None else ""
    state: FormState[Any] = FormState(locale=ui.locale, values={"reason": ""})
    if form is not None:
        state.values = {k: str(v) for k, v in form.items() if k not in ("password", "csrf_token")}
    data = TransitionIn(
        action=action[:32] or "-",
        reason=str(form.get("reason", ""))[:500] if form is not None else "",
        signature=SignatureIn(
            password=password[:200],
            comment=str(form.get("comment", ""))[:1000] if form is not None else "",
            second_factor=(str(form.get("second_factor", "")) or None)
            if form is not None
            else None,
        )
        if password
        else None,
    )
    principal = who(ui)
    policy = _policy(ui)
    try:
        with failed_attempts_kept(ui.session, principal, policy):
            service.transition(ui.session, principal, kind, record_id, data, policy=policy)
    except DomainError as exc:
        ui.discard_changes()
        state.reject(exc)
        return _record_page(ui, kind, record_id, step=action, step_form=state)
    return ui.redirect(f"/quality/{kind_path}/{record_id}?saved=1")


_UPDATE: dict[str, tuple[Any, Any]] = {
    "ncr": (NcrUpdate, ncr_service.update_ncr),
    "capa": (CapaUpdate, capa_service.update_capa),
    "change": (ChangeUpdate, change_control.update_change),
    "deviation": (DeviationUpdate, deviation_service.update_deviation),
    "complaint": (ComplaintUpdate, complaint_service.update_complaint),
}
_NULLABLE = frozenset(
    {
        "due_date",
        "owner_user_id",
        "supplier_party_id",
        "disposition",
        "effective",
        "effective_date",
        "product_id",
        "valid_from",
        "valid_until",
        "event_date",
        "fda_mdr_reportable",
        "eu_vigilance_reportable",
        "nmpa_reportable",
    }
)


@router.post("/quality/{kind_path}/{record_id}")
def record_update(ui: UiPage, kind_path: str, record_id: int) -> Response:
    """Save the record's editable fields (the state decides which)."""
    kind = _kind(kind_path)
    schema, update = _UPDATE[kind]
    extra: dict[str, Any] = {}
    if kind == "change" and ui.form is not None and "affected_documents_text" in ui.form:
        documents = str(ui.form.get("affected_documents_text", ""))
        extra["affected_documents"] = [d.strip() for d in documents.splitlines() if d.strip()]
    state: FormState[Any] = parse_form(
        schema,
        ui.form,
        ui.locale,
        mode="update",
        nullable=_NULLABLE,
        lists=_LISTS if kind == "change" else frozenset(),
        skip=frozenset({"affected_documents_text"}),
        extra=extra,
    )
    saved = submit(ui, state, lambda data: update(ui.session, who(ui), record_id, data))
    if saved is not None:
        return ui.redirect(f"/quality/{kind_path}/{record_id}?saved=1")
    return _record_page(ui, kind, record_id, edit_form=state)


@router.post("/quality/ncrs/{record_id}/supplier-response")
def ncr_answer(ui: UiPage, record_id: int) -> Response:
    """The supplier's answer (SCAR) from its portal."""
    state = parse_form(SupplierResponseIn, ui.form, ui.locale)
    saved = submit(
        ui, state, lambda data: ncr_service.supplier_respond(ui.session, who(ui), record_id, data)
    )
    if saved is not None:
        return ui.redirect(f"/quality/ncrs/{record_id}?saved=1")
    return _record_page(ui, "ncr", record_id, side_form=state)


@router.post("/quality/capas/{record_id}/actions")
def capa_action_add(ui: UiPage, record_id: int) -> Response:
    state = parse_form(CapaActionIn, ui.form, ui.locale)
    saved = submit(
        ui, state, lambda data: capa_service.add_action(ui.session, who(ui), record_id, data)
    )
    if saved is not None:
        return ui.redirect(f"/quality/capas/{record_id}?saved=1#actions")
    return _record_page(ui, "capa", record_id, side_form=state)


@router.post("/quality/capas/{record_id}/actions/{action_id}/done")
def capa_action_done(ui: UiPage, record_id: int, action_id: int) -> Response:
    state = parse_form(CapaActionDoneIn, ui.form, ui.locale)
    saved = submit(
        ui,
        state,
        lambda data: capa_service.complete_action(ui.session, who(ui), record_id, action_id, data),
    )
    if saved is not None:
        return ui.redirect(f"/quality/capas/{record_id}?saved=1#actions")
    return _record_page(ui, "capa", record_id, side_form=state)


@router.post("/quality/changes/{record_id}/acknowledge")
def change_acknowledge(ui: UiPage, record_id: int) -> Response:
    """A notified partner acknowledges the change from its portal."""
    state = parse_form(AcknowledgeIn, ui.form, ui.locale)
    saved = submit(
        ui, state, lambda data: change_control.acknowledge(ui.session, who(ui), record_id, data)
    )
    if saved is not None:
        return ui.redirect(f"/quality/changes/{record_id}?saved=1")
    return _record_page(ui, "change", record_id, side_form=state)


@router.post("/quality/complaints/{record_id}/ncr")
def complaint_ncr(ui: UiPage, record_id: int) -> Response:
    """Open an NCR from the complaint (its lot goes on hold through the NCR)."""
    state = parse_form(
        ComplaintNcrIn, ui.form, ui.locale, nullable=frozenset({"supplier_party_id"})
    )
    ncr = submit(
        ui, state, lambda data: complaint_service.open_ncr(ui.session, who(ui), record_id, data)
    )
    if ncr is not None:
        return ui.redirect(f"/quality/ncrs/{ncr.id}?saved=1")
    return _record_page(ui, "complaint", record_id, side_form=state)


@router.post("/quality/complaints/{record_id}/capa")
def complaint_capa(ui: UiPage, record_id: int) -> Response:
    """Open a CAPA from the complaint."""
    state: FormState[Any] = FormState(locale=ui.locale, values={})
    try:
        capa = complaint_service.open_capa(ui.session, who(ui), record_id)
    except DomainError as exc:
        ui.discard_changes()
        state.reject(exc)
        return _record_page(ui, "complaint", record_id, side_form=state)
    return ui.redirect(f"/quality/capas/{capa.id}?saved=1")


# --- service records -------------------------------------------------------------------------


def _service_page(ui: Ui, form: FormState[Any]) -> Response:
    principal = who(ui)
    return list_page(
        ui,
        SERVICE_RECORD_LIST,
        status=form.status,
        form=form,
        can_report=principal.can(Permission.QUALITY_REPORT),
        service_kind_options=options(ui, SERVICE_KIND_LABELS, SERVICE_KIND_LABELS),
        service_outcome_options=options(ui, SERVICE_OUTCOME_LABELS, SERVICE_OUTCOME_LABELS),
    )


@router.get("/quality/service-records")
def service_records(ui: UiPage) -> Response:
    """Servicing records (a service partner: its own), with the form to record one."""
    who(ui).require(Permission.QUALITY_READ)
    return _service_page(
        ui,
        empty_form(
            ui.locale,
            {
                "kind": "preventive_maintenance",
                "outcome": "in_service",
                "performed_on": utcnow().date().isoformat(),
            },
        ),
    )


@router.post("/quality/service-records")
def service_record_create(ui: UiPage) -> Response:
    extra: dict[str, Any] = {}
    if ui.form is not None:
        parts = str(ui.form.get("parts_text", ""))
        extra["parts_replaced"] = [p.strip() for p in parts.splitlines() if p.strip()]
    state: FormState[Any] = parse_form(
        ServiceRecordIn,
        ui.form,
        ui.locale,
        nullable=frozenset({"complaint_id"}),
        skip=frozenset({"parts_text"}),
        extra=extra,
    )
    saved = submit(
        ui, state, lambda data: complaint_service.record_service(ui.session, who(ui), data)
    )
    if saved is not None:
        return ui.redirect(f"/quality/service-records?saved=1&serial={saved.serial}")
    return _service_page(ui, state)
