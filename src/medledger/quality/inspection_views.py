"""Pages: inspection plans (list, new, view), entering inspection results (the record page
itself is quality's generic one), the device history record and the certificate of
conformance as HTML and PDF. Mounted before quality's generic ``/quality/{kind}/{id}`` pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from medledger.catalog.models import Product
from medledger.core.errors import DomainError
from medledger.core.principal import Permission
from medledger.parties.models import Party
from medledger.quality import documents
from medledger.quality import inspection as inspections
from medledger.quality.document_pdf import coc_pdf, dhr_pdf
from medledger.quality.errors import Code
from medledger.quality.inspection_schemas import PlanIn, ResultIn, ResultsIn
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.lists import IN_MEMORY_LIMIT, NP_, Column, Empty, ListQuery, ListSpec, list_page
from medledger.web.nav import N_
from medledger.web.pages import options, submit, who
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

INSPECTION_KIND_LABELS = {
    "incoming": N_("incoming"),
    "in_process": N_("in-process"),
    "final": N_("final"),
}
CHARACTERISTIC_KIND_LABELS = {"numeric": N_("numeric"), "attribute": N_("attribute")}
VERDICT_LABELS = {"pass": N_("pass"), "fail": N_("fail")}
CHARACTERISTIC_ROWS = 5


def _products(ui: Ui) -> dict[int, str]:
    return {
        p.id: f"{p.name} ({p.gtin})"
        for p in ui.session.scalars(
            select(Product).where(Product.tenant_id == who(ui).tenant_id).order_by(Product.name)
        )
    }


def _parties(ui: Ui, role: str | None = None) -> dict[int, str]:
    parties = ui.session.scalars(
        select(Party).where(Party.tenant_id == who(ui).tenant_id).order_by(Party.name)
    )
    return {p.id: p.name for p in parties if role is None or role in (p.roles or [])}


# --- plans ----------------------------------------------------------------------------------


def _fetch_plans(ui: Ui, query: ListQuery) -> list[Any]:
    items, _ = inspections.list_plans(ui.session, who(ui), page_size=IN_MEMORY_LIMIT)
    names = _products(ui)
    parties = _parties(ui)
    for plan in items:
        # Display labels for the list's columns (not columns of the table).
        setattr(plan, "product_label", names.get(plan.product_id, ""))  # noqa: B010
        setattr(plan, "supplier_label", parties.get(plan.supplier_party_id or 0, ""))  # noqa: B010
    return items


PLAN_LIST = ListSpec(
    key="inspection_plans",
    title=N_("Inspection plans"),
    path="/quality/inspection-plans",
    columns=(
        Column(
            "number",
            N_("Number"),
            lambda p: p.number,
            href=lambda p: f"/quality/inspection-plans/{p.id}",
            css="mono nowrap",
            searchable=True,
        ),
        Column("title", N_("Title"), lambda p: p.title, searchable=True),
        Column("product", N_("Product"), lambda p: p.product_label, searchable=True),
        Column(
            "kind",
            N_("Kind"),
            lambda p: p.kind,
            text=lambda ui, p: ui._(INSPECTION_KIND_LABELS.get(p.kind, p.kind)),
        ),
        Column("supplier", N_("Supplier"), lambda p: p.supplier_label),
        Column("version", N_("Version"), lambda p: p.version, css="num"),
        Column(
            "active",
            N_("State"),
            lambda p: p.active,
            text=lambda ui, p: ui._("active") if p.active else ui._("inactive"),
        ),
    ),
    fetch=_fetch_plans,
    count=NP_("{n} inspection plan", "{n} inspection plans"),
    empty=Empty(
        N_("No inspection plan yet: a plan says what to inspect on lots of a product."),
        N_("New inspection plan"),
        "/quality/inspection-plans/new",
        Permission.QUALITY_WRITE,
    ),
    create=Empty(
        "", N_("New inspection plan"), "/quality/inspection-plans/new", Permission.QUALITY_WRITE
    ),
    search=N_("Number, title or product"),
    default_sort="-number",
    permission=Permission.QUALITY_READ,
)


@router.get("/quality/inspection-plans")
def plan_list(ui: UiPage) -> Response:
    """Inspection plans per product (and supplier) and kind."""
    return list_page(ui, PLAN_LIST)


def _plan_form(ui: Ui, form: FormState[Any]) -> Response:
    return ui.render(
        "quality/plan_new.html",
        status=form.status,
        form=form,
        rows=CHARACTERISTIC_ROWS,
        products=[(str(k), v) for k, v in _products(ui).items()],
        suppliers=[(str(k), v) for k, v in _parties(ui, "supplier").items()],
        kind_options=options(ui, INSPECTION_KIND_LABELS, INSPECTION_KIND_LABELS),
        characteristic_kinds=options(ui, CHARACTERISTIC_KIND_LABELS, CHARACTERISTIC_KIND_LABELS),
    )


@router.get("/quality/inspection-plans/new")
def plan_new(ui: UiPage) -> Response:
    who(ui).require(Permission.QUALITY_WRITE)
    return _plan_form(ui, empty_form(ui.locale, {"kind": "incoming"}))


@router.post("/quality/inspection-plans/new")
def plan_create(ui: UiPage) -> Response:
    state: FormState[Any] = parse_form(
        PlanIn, ui.form, ui.locale, rows=frozenset({"characteristics"})
    )
    plan = submit(ui, state, lambda data: inspections.create_plan(ui.session, who(ui), data))
    if plan is not None:
        return ui.redirect(f"/quality/inspection-plans/{plan.id}?saved=1")
    return _plan_form(ui, state)


@router.get("/quality/inspection-plans/{plan_id}")
def plan_page(ui: UiPage, plan_id: int) -> Response:
    plan = inspections.get_plan(ui.session, who(ui), plan_id)
    return ui.render(
        "quality/plan.html",
        plan=plan,
        product=_products(ui).get(plan.product_id, ""),
        supplier=_parties(ui).get(plan.supplier_party_id, "") if plan.supplier_party_id else "",
        kind_labels=INSPECTION_KIND_LABELS,
        characteristic_kinds=CHARACTERISTIC_KIND_LABELS,
    )


# --- results --------------------------------------------------------------------------------


@router.post("/quality/inspections/{record_id}/results")
def inspection_results(ui: UiPage, record_id: int) -> Response:
    """Readings typed on the inspection page: one field per characteristic, values separated
    by ``;`` (a comma is read as a decimal comma)."""
    from medledger.quality.views import _record_page

    form = ui.form
    values = {k: str(v) for k, v in (form or {}).items() if k != "csrf_token"}
    state: FormState[Any] = FormState(locale=ui.locale, values=values)
    results = []
    for key, text in values.items():
        if key.startswith("reading:") and text.strip():
            readings = [part.strip() for part in text.split(";") if part.strip()]
            results.append(ResultIn(name=key[len("reading:") :][:80] or "-", values=readings[:200]))
    try:
        if not results:
            from medledger.core.errors import field_error

            raise field_error("results", Code.INSPECTION_NO_READINGS, "Enter at least one reading.")
        inspections.record_results(ui.session, who(ui), record_id, ResultsIn(results=results))
    except DomainError as exc:
        ui.discard_changes()
        state.reject(exc)
        # Errors of results.<i> belong to that characteristic's input.
        inputs = {f"results.{i}": f"reading:{r.name}" for i, r in enumerate(results)}
        state.errors = {
            inputs.get(".".join(key.split(".")[:2]), key): messages
            for key, messages in state.errors.items()
        }
        return _record_page(ui, "inspection", record_id, side_form=state)
    return ui.redirect(f"/quality/inspections/{record_id}?saved=1")


# --- documents ------------------------------------------------------------------------------


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def _lot_query(ui: Ui) -> tuple[str, str]:
    params = ui.request.query_params
    return params.get("gtin", "")[:14].strip(), params.get("lot", "")[:20].strip()


@router.get("/quality/documents/dhr")
def dhr_page(ui: UiPage) -> Response:
    """The device history record of a finished lot (ask by GTIN and lot)."""
    gtin, lot = _lot_query(ui)
    form = empty_form(ui.locale, {"gtin": gtin, "lot": lot})
    record = None
    if gtin and lot:
        try:
            record = documents.device_history_record(ui.session, who(ui), gtin, lot)
        except DomainError as exc:
            form.reject(exc)
    return ui.render(
        "quality/dhr.html",
        status=form.status,
        form=form,
        dhr=record,
        **_document_labels(ui),
    )


@router.get("/quality/documents/dhr/pdf")
def dhr_file(ui: UiPage) -> Response:
    gtin, lot = _lot_query(ui)
    record = documents.device_history_record(ui.session, who(ui), gtin, lot)
    return _pdf(dhr_pdf(record, _translator(ui)), f"DHR-{gtin}-{lot}.pdf")


@router.get("/quality/documents/coc/{shipment_id}")
def coc_page(ui: UiPage, shipment_id: int) -> Response:
    """The certificate of conformance of a shipment."""
    coc = documents.certificate_of_conformance(ui.session, who(ui), shipment_id)
    return ui.render("quality/coc.html", coc=coc, **_document_labels(ui))


@router.get("/quality/documents/coc/{shipment_id}/pdf")
def coc_file(ui: UiPage, shipment_id: int) -> Response:
    coc = documents.certificate_of_conformance(ui.session, who(ui), shipment_id)
    return _pdf(coc_pdf(coc, _translator(ui)), f"CoC-{coc.shipment.sscc}.pdf")


@router.get("/quality/documents")
def documents_home(ui: UiPage) -> Response:
    """Compliance documents: a lot's DHR, the shipments' certificates of conformance."""
    from medledger.quality.lists import DOCUMENT_LIST

    return list_page(ui, DOCUMENT_LIST)


def _document_labels(ui: Ui) -> dict[str, Any]:
    from medledger.quality.views import _labels

    return {
        **_labels(ui),
        "inspection_kind_labels": INSPECTION_KIND_LABELS,
        "verdict_labels": VERDICT_LABELS,
    }


def _translator(ui: Ui) -> Any:
    return lambda message: ui._(message)
