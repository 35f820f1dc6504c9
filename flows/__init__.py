"""Prefect flows: thin orchestration over the aggregator library."""
