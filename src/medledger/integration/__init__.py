"""The integration gateway: the outbox of business facts partners may need, webhook
subscriptions, and the worker that delivers them after commit (see ``docs/integration.md``)."""
