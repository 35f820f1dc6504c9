"""Aggregator: nightly event aggregation for the Mois de l'innovation publique."""

__version__ = "0.1.0"
