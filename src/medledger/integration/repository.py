"""Partner visibility of the integration tables: a partner sees its own party's
subscriptions and deliveries; outbox messages only through its deliveries."""

from __future__ import annotations

from sqlalchemy import true
from sqlalchemy.sql.elements import ColumnElement

from medledger.core.principal import Principal
from medledger.core.scoping import party_rule
from medledger.integration.dictionary.models import DictionaryVersion
from medledger.integration.edi.models import DespatchAdvice, EdiPartnerSetting, OutboundFile
from medledger.integration.models import Delivery, WebhookSubscription


@party_rule(WebhookSubscription)
def _subscription_visible(principal: Principal) -> ColumnElement[bool]:
    return WebhookSubscription.party_id == principal.party_id


@party_rule(Delivery)
def _delivery_visible(principal: Principal) -> ColumnElement[bool]:
    return Delivery.party_id == principal.party_id


@party_rule(EdiPartnerSetting)
def _edi_settings_visible(principal: Principal) -> ColumnElement[bool]:
    return EdiPartnerSetting.party_id == principal.party_id


@party_rule(DespatchAdvice)
def _despatch_advice_visible(principal: Principal) -> ColumnElement[bool]:
    return DespatchAdvice.party_id == principal.party_id


@party_rule(OutboundFile)
def _outbound_file_visible(principal: Principal) -> ColumnElement[bool]:
    return OutboundFile.party_id == principal.party_id


@party_rule(DictionaryVersion)
def _dictionary_visible(principal: Principal) -> ColumnElement[bool]:
    return true()  # the dictionary is what every partner exchanges data by
