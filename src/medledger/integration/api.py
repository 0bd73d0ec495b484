"""REST routes of the integration gateway: event types, webhook subscriptions, deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from medledger.core.config import Settings
from medledger.core.deps import CurrentPrincipal, DbSession, get_settings_dep
from medledger.core.schemas import Page
from medledger.core.types import RecordId
from medledger.integration import service
from medledger.integration.event_types import event_types
from medledger.integration.models import Delivery, OutboxMessage
from medledger.integration.schemas import (
    DeliveryOut,
    EventTypeOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionUpdate,
)

router = APIRouter(prefix="/api/v1/integration", tags=["integration"])
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def _delivery_out(delivery: Delivery, message: OutboxMessage) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        subscription_id=delivery.subscription_id,
        party_id=delivery.party_id,
        message_id=message.message_id,
        event_type=message.event_type,
        subject=message.subject,
        state=delivery.state,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        last_attempt_at=delivery.last_attempt_at,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )


@router.get("/event-types", response_model=list[EventTypeOut])
def list_event_types(principal: CurrentPrincipal) -> list[EventTypeOut]:
    """The business facts a subscription can ask for."""
    return [EventTypeOut(name=t.name, description=t.description) for t in event_types()]


@router.post(
    "/subscriptions", response_model=SubscriptionCreated, status_code=status.HTTP_201_CREATED
)
def create_subscription(
    session: DbSession, principal: CurrentPrincipal, settings: AppSettings, data: SubscriptionIn
) -> SubscriptionCreated:
    """Subscribe your party to event types; the answer holds the signing secret, this once."""
    subscription, secret = service.create_subscription(
        session,
        principal,
        data,
        allow_private_networks=settings.webhook_allow_private_networks,
    )
    out = SubscriptionOut.model_validate(subscription)
    return SubscriptionCreated(**out.model_dump(), secret=secret)


@router.get("/subscriptions", response_model=Page[SubscriptionOut])
def list_subscriptions(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[SubscriptionOut]:
    """Your party's subscriptions (the hub's admins see every party's)."""
    items, total = service.list_subscriptions(session, principal, page=page, page_size=page_size)
    return Page(
        items=[SubscriptionOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def read_subscription(
    session: DbSession, principal: CurrentPrincipal, subscription_id: RecordId
) -> SubscriptionOut:
    return SubscriptionOut.model_validate(
        service.get_subscription(session, principal, subscription_id)
    )


@router.patch("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def update_subscription(
    session: DbSession,
    principal: CurrentPrincipal,
    settings: AppSettings,
    subscription_id: RecordId,
    data: SubscriptionUpdate,
) -> SubscriptionOut:
    """Rename, re-point, change event types, or switch off (``active: false``)."""
    return SubscriptionOut.model_validate(
        service.update_subscription(
            session,
            principal,
            subscription_id,
            data,
            allow_private_networks=settings.webhook_allow_private_networks,
        )
    )


@router.post("/subscriptions/{subscription_id}/rotate-secret", response_model=SubscriptionCreated)
def rotate_secret(
    session: DbSession, principal: CurrentPrincipal, subscription_id: RecordId
) -> SubscriptionCreated:
    """A new signing secret; deliveries from now on are signed with it."""
    secret = service.rotate_secret(session, principal, subscription_id)
    subscription = service.get_subscription(session, principal, subscription_id)
    out = SubscriptionOut.model_validate(subscription)
    return SubscriptionCreated(**out.model_dump(), secret=secret)


@router.get("/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    session: DbSession,
    principal: CurrentPrincipal,
    state: Annotated[str | None, Query(pattern="^(pending|retrying|delivered|dead)$")] = None,
    subscription_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[DeliveryOut]:
    """Deliveries to your party's subscriptions, newest first, with state and last error."""
    rows, total = service.list_deliveries(
        session,
        principal,
        state=state,
        subscription_id=subscription_id,
        page=page,
        page_size=page_size,
    )
    return Page(
        items=[_delivery_out(d, m) for d, m in rows], total=total, page=page, page_size=page_size
    )


@router.get("/deliveries/{delivery_id}", response_model=DeliveryOut)
def read_delivery(
    session: DbSession, principal: CurrentPrincipal, delivery_id: RecordId
) -> DeliveryOut:
    return _delivery_out(*service.get_delivery(session, principal, delivery_id))


@router.post("/deliveries/{delivery_id}/replay", response_model=DeliveryOut)
def replay_delivery(
    session: DbSession, principal: CurrentPrincipal, delivery_id: RecordId
) -> DeliveryOut:
    """Queue a dead (or retrying) delivery again, due now."""
    delivery = service.replay_delivery(session, principal, delivery_id)
    _, message = service.get_delivery(session, principal, delivery.id)
    return _delivery_out(delivery, message)


def _mount_edi() -> None:
    from medledger.integration.dictionary.api import router as dictionary_router
    from medledger.integration.edi.api import router as edi_router

    router.include_router(edi_router)
    router.include_router(dictionary_router)


_mount_edi()
