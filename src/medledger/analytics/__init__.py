"""Analytics: supplier scorecards and improvement plans, the KPI board, statistical process
control over measured values, demand forecasts. It reads what the other contexts record and
writes only its own settings and plans."""
