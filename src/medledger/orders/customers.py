"""Use cases for customers, ship-to sites, contracts, tender awards and item references."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from medledger.catalog.errors import Code as CatalogCode
from medledger.catalog.models import Product
from medledger.core.errors import ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.core.repository import apply_changes, get_visible, list_visible
from medledger.core.scoping import scoped
from medledger.orders.errors import Code, order_conflict, problem
from medledger.orders.models import (
    Contract,
    Customer,
    ItemReference,
    ShipTo,
    Tender,
    TenderLine,
)
from medledger.orders.schemas import (
    ContractIn,
    CustomerIn,
    CustomerUpdate,
    ItemReferenceIn,
    ShipToIn,
    TenderIn,
)
from medledger.parties.errors import Code as PartiesCode
from medledger.parties.models import Party


def _invalid(field: str, code: str, message: str, **params: object) -> ValidationFailed:
    return ValidationFailed(
        message, code=code, params=params, errors=[problem(field, code, message, **params)]
    )


def create_customer(session: Session, principal: Principal, data: CustomerIn) -> Customer:
    """Make a party of the network a customer, with its tier and EDI sender ids."""
    principal.require(Permission.CUSTOMERS_WRITE)
    party = session.get(Party, data.party_id)
    if party is None or party.tenant_id != principal.tenant_id:
        raise _invalid(
            "party_id", PartiesCode.PARTY_UNKNOWN, "Party {id} does not exist.", id=data.party_id
        )
    exists = session.scalar(
        select(Customer.id).where(
            Customer.tenant_id == principal.tenant_id, Customer.party_id == data.party_id
        )
    )
    if exists is not None:
        raise order_conflict(
            "party_id",
            Code.CUSTOMER_EXISTS,
            "{name} is a customer already.",
            name=party.name,
        )
    customer = Customer(
        tenant_id=principal.tenant_id,
        party_id=party.id,
        tier=data.tier.value,
        currency=data.currency,
        edi_sender_ids=dict(data.edi_sender_ids),
        active=True,
    )
    session.add(customer)
    session.flush()
    return customer


def update_customer(
    session: Session, principal: Principal, customer_id: int, data: CustomerUpdate
) -> Customer:
    """Change a customer's tier, currency, EDI sender ids or active flag."""
    principal.require(Permission.CUSTOMERS_WRITE)
    customer = get_visible(session, Customer, customer_id, principal)
    apply_changes(customer, data.model_dump(exclude_unset=True, mode="json"))
    session.flush()
    return customer


def list_customers(
    session: Session, principal: Principal, *, page: int = 1, page_size: int = 50
) -> tuple[list[Customer], int]:
    """Customers (a partner user sees its own record only)."""
    principal.require(Permission.ORDERS_READ)
    return list_visible(session, Customer, principal, page=page, page_size=page_size)


def get_customer(session: Session, principal: Principal, customer_id: int) -> Customer:
    principal.require(Permission.ORDERS_READ)
    return get_visible(session, Customer, customer_id, principal)


def customer_names(session: Session, principal: Principal) -> dict[int, str]:
    """Customer id -> party name, for lists and forms."""
    stmt: Select[Any] = scoped(
        cast(
            Select[Any], select(Customer.id, Party.name).join(Party, Party.id == Customer.party_id)
        ),
        Customer,
        principal,
    ).order_by(Party.name)
    return {cid: name for cid, name in session.execute(stmt)}


def add_ship_to(session: Session, principal: Principal, customer_id: int, data: ShipToIn) -> ShipTo:
    """Add a delivery address; a new default replaces the previous default."""
    principal.require(Permission.CUSTOMERS_WRITE)
    customer = get_visible(session, Customer, customer_id, principal)
    taken = session.scalar(
        select(ShipTo.id).where(ShipTo.customer_id == customer.id, ShipTo.code == data.code)
    )
    if taken is not None:
        raise order_conflict(
            "code", Code.SHIP_TO_CODE_TAKEN, "Ship-to code {code} is taken.", code=data.code
        )
    if data.is_default:
        for other in session.scalars(
            select(ShipTo).where(ShipTo.customer_id == customer.id, ShipTo.is_default.is_(True))
        ):
            other.is_default = False
    ship_to = ShipTo(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        party_id=customer.party_id,
        active=True,
        **data.model_dump(mode="json"),
    )
    session.add(ship_to)
    session.flush()
    return ship_to


def list_ship_tos(session: Session, principal: Principal, customer_id: int) -> list[ShipTo]:
    customer = get_customer(session, principal, customer_id)
    return list(
        session.scalars(
            select(ShipTo).where(ShipTo.customer_id == customer.id).order_by(ShipTo.code)
        )
    )


def add_contract(
    session: Session, principal: Principal, customer_id: int, data: ContractIn
) -> Contract:
    """Record contract terms: service level, penalty per day late, minimum shelf life."""
    principal.require(Permission.CUSTOMERS_WRITE)
    customer = get_visible(session, Customer, customer_id, principal)
    if data.valid_until is not None and data.valid_until < data.valid_from:
        raise _invalid(
            "valid_until", Code.VALID_UNTIL_BEFORE_START, "The contract ends before it starts."
        )
    taken = session.scalar(
        select(Contract.id).where(
            Contract.tenant_id == customer.tenant_id, Contract.number == data.number
        )
    )
    if taken is not None:
        raise order_conflict(
            "number", Code.CONTRACT_NUMBER_TAKEN, "Contract {number} exists.", number=data.number
        )
    contract = Contract(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        party_id=customer.party_id,
        active=True,
        **data.model_dump(),
    )
    session.add(contract)
    session.flush()
    return contract


def list_contracts(session: Session, principal: Principal, customer_id: int) -> list[Contract]:
    customer = get_customer(session, principal, customer_id)
    return list(
        session.scalars(
            select(Contract)
            .where(Contract.customer_id == customer.id)
            .order_by(Contract.valid_from.desc())
        )
    )


def create_tender(
    session: Session, principal: Principal, customer_id: int, data: TenderIn
) -> Tender:
    """Record a tender award: products and the quantities the customer committed to."""
    principal.require(Permission.CUSTOMERS_WRITE)
    customer = get_visible(session, Customer, customer_id, principal)
    if data.valid_until < data.valid_from:
        raise _invalid(
            "valid_until", Code.VALID_UNTIL_BEFORE_START, "The tender ends before it starts."
        )
    if data.contract_id is not None:
        contract = session.get(Contract, data.contract_id)
        if contract is None or contract.customer_id != customer.id:
            raise _invalid(
                "contract_id",
                Code.CONTRACT_UNKNOWN,
                "Contract {number} is not in force for this customer on {date}.",
                number=data.contract_id,
                date=data.valid_from.isoformat(),
            )
    taken = session.scalar(
        select(Tender.id).where(
            Tender.tenant_id == customer.tenant_id, Tender.reference == data.reference
        )
    )
    if taken is not None:
        raise order_conflict(
            "reference",
            Code.TENDER_REFERENCE_TAKEN,
            "Tender {reference} exists.",
            reference=data.reference,
        )
    products = {
        p.gtin: p
        for p in session.scalars(
            select(Product).where(
                Product.tenant_id == customer.tenant_id,
                Product.gtin.in_([line.gtin for line in data.lines]),
            )
        )
    }
    errors = []
    seen: set[str] = set()
    for index, line in enumerate(data.lines):
        if line.gtin not in products:
            errors.append(
                problem(
                    f"lines.{index}.gtin",
                    CatalogCode.PRODUCT_UNKNOWN,
                    "GTIN {gtin} is not in the catalogue.",
                    gtin=line.gtin,
                )
            )
        if line.gtin in seen:
            errors.append(
                problem(
                    f"lines.{index}.gtin",
                    Code.TENDER_LINE_DUPLICATE,
                    "GTIN {gtin} appears twice.",
                    gtin=line.gtin,
                )
            )
        seen.add(line.gtin)
    if errors:
        raise ValidationFailed(errors=errors)
    tender = Tender(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        party_id=customer.party_id,
        contract_id=data.contract_id,
        reference=data.reference,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
    )
    session.add(tender)
    session.flush()
    for line in data.lines:
        session.add(
            TenderLine(
                tenant_id=tender.tenant_id,
                tender_id=tender.id,
                party_id=tender.party_id,
                product_id=products[line.gtin].id,
                gtin=line.gtin,
                committed_quantity=line.committed_quantity,
                called_off_quantity=0,
                unit_price=line.unit_price,
            )
        )
    session.flush()
    return tender


def list_tenders(session: Session, principal: Principal, customer_id: int) -> list[Tender]:
    customer = get_customer(session, principal, customer_id)
    return list(
        session.scalars(
            select(Tender).where(Tender.customer_id == customer.id).order_by(Tender.valid_from)
        )
    )


def get_tender(session: Session, principal: Principal, tender_id: int) -> Tender:
    principal.require(Permission.ORDERS_READ)
    return get_visible(session, Tender, tender_id, principal)


def tender_lines(session: Session, tender: Tender) -> list[TenderLine]:
    return list(
        session.scalars(
            select(TenderLine).where(TenderLine.tender_id == tender.id).order_by(TenderLine.gtin)
        )
    )


def add_item_reference(
    session: Session, principal: Principal, customer_id: int, data: ItemReferenceIn
) -> ItemReference:
    """Map a partner's item number (X12 VN/BP, EDIFACT SA/IN) to one of our GTINs."""
    principal.require(Permission.CUSTOMERS_WRITE)
    customer = get_visible(session, Customer, customer_id, principal)
    product = session.scalars(
        select(Product).where(Product.tenant_id == customer.tenant_id, Product.gtin == data.gtin)
    ).first()
    if product is None:
        raise _invalid(
            "gtin",
            CatalogCode.PRODUCT_UNKNOWN,
            "GTIN {gtin} is not in the catalogue.",
            gtin=data.gtin,
        )
    taken = session.scalar(
        select(ItemReference.id).where(
            ItemReference.customer_id == customer.id,
            ItemReference.qualifier == data.qualifier,
            ItemReference.code == data.code,
        )
    )
    if taken is not None:
        raise order_conflict(
            "code",
            Code.ITEM_REFERENCE_TAKEN,
            "Item number {code} is mapped already.",
            code=data.code,
        )
    reference = ItemReference(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        party_id=customer.party_id,
        qualifier=data.qualifier,
        code=data.code,
        product_id=product.id,
    )
    session.add(reference)
    session.flush()
    return reference
