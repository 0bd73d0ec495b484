"""The facts the recall context publishes to partners' integrations (outbox event types)."""

from __future__ import annotations

from medledger.integration.event_types import register_event_type

RECALL_NOTICE = register_event_type(
    "recall.notice",
    "A recall concerns the consignee: the recall, its class and depth, what to do, and the "
    "lots, serials and logistic units the consignee was shipped or holds.",
)
