"""API shapes of subscriptions and deliveries."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from medledger.core.types import RecordId, Text


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=100)
    url: str = Field(min_length=8, max_length=2000, description="http(s) URL the POSTs go to.")
    event_types: list[str] = Field(min_length=1, max_length=50)


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text | None = Field(None, min_length=1, max_length=100)
    url: str | None = Field(None, min_length=8, max_length=2000)
    event_types: list[str] | None = Field(None, min_length=1, max_length=50)
    active: bool | None = None


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    party_id: RecordId
    name: str
    url: str
    event_types: list[str]
    active: bool
    created_at: datetime
    created_by: str


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="Shown once: keep it to verify signatures.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    subscription_id: RecordId
    party_id: RecordId
    message_id: str
    event_type: str
    subject: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class EventTypeOut(BaseModel):
    name: str
    description: str
