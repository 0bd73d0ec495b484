"""What analytics provides to the contexts below it, through their registries: the demand
forecast that purchasing's reorder levels read (``purchasing.suggestions``)."""

from __future__ import annotations

from medledger.analytics.insights import daily_demand_forecast
from medledger.purchasing.suggestions import register_demand_forecast

register_demand_forecast(daily_demand_forecast)
