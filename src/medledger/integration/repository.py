"""Partner visibility of the integration tables: a partner sees its own party's
subscriptions and deliveries; outbox messages only through its deliveries."""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement

from medledger.core.principal import Principal
from medledger.core.scoping import party_rule
from medledger.integration.models import Delivery, WebhookSubscription


@party_rule(WebhookSubscription)
def _subscription_visible(principal: Principal) -> ColumnElement[bool]:
    return WebhookSubscription.party_id == principal.party_id


@party_rule(Delivery)
def _delivery_visible(principal: Principal) -> ColumnElement[bool]:
    return Delivery.party_id == principal.party_id
