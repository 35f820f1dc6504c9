"""Prefect flows: thin orchestration over the aggregator library."""

import os

# Robust defaults for Prefect's temporary local server when run by hand (the Makefile sets them too):
# on a small machine its start-up can exceed Prefect's 20 s default.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
