"""A run's figures: what is drawn (maps, the report's charts), from which tables, and their HTML."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from html import escape

import pandas as pd

from aggregator.french import typography

# The statistics tables (``stats.all_tables``) the figures are drawn from: a few hundred rows at most.
TABLES = ("by_region", "by_departement", "by_day", "by_event_type", "by_attendance_mode")


@dataclass(frozen=True)
class Figures:
    """A run's figures, drawn (``charts.draw``).

    Attributes:
        maps: Level (``regions``, ``departements``) -> format (``png``, ``svg``) -> image.
        charts: The report's charts as HTML ``<figure>`` elements (PNG embedded), in the page's order.
    """

    maps: dict[str, dict[str, bytes]]
    charts: tuple[str, ...]


def figure_html(png: bytes, alt: str, caption: str) -> str:
    """A ``<figure>`` holding ``png`` (embedded), its text alternative and its caption, escaped."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(typography(alt))}">'
        f"<figcaption>{escape(typography(caption))}</figcaption></figure>"
    )


def ranked_regions(by_region: pd.DataFrame) -> pd.DataFrame:
    """The regions most events first, then by name: the order of the chart, the table and ``totals.md``."""
    return by_region.sort_values(["events", "region_name"], ascending=[False, True], kind="stable")
