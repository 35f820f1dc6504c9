"""Thresholds of deduplication; defined with the rest of the configuration (``dedupe:`` in sources.yaml)."""

from aggregator.config import DedupeSettings

__all__ = ["DedupeSettings"]
