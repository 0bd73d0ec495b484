"""Priority context: explainable priority scores and the allocation engine (pure engines)."""
