"""The report's charts and the maps, drawn with matplotlib: ``draw`` makes every figure of a run."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: charts are rendered to bytes

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.dates import DateFormatter
from matplotlib.ticker import MaxNLocator

from aggregator.figures import Figures, figure_html, ranked_regions
from aggregator.labels import MODE_LABELS, TYPE_LABELS
from aggregator.maps import maps
from aggregator.totals import french_date
from aggregator.totals import number as fr_int

BLUE = "#000091"  # the French State's blue


def draw(tables: Mapping[str, pd.DataFrame]) -> Figures:
    """Both maps and the report's four charts, from the statistics tables (``figures.TABLES`` of them).

    Args:
        tables: The statistics tables by name (``stats.all_tables``).
    """
    return Figures(
        maps=maps(tables["by_region"], tables["by_departement"]),
        charts=(
            region_chart(tables["by_region"]),
            day_chart(tables["by_day"]),
            type_chart(tables["by_event_type"]),
            mode_chart(tables["by_attendance_mode"]),
        ),
    )


def _figure(fig: Any, alt: str, caption: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return figure_html(buffer.getvalue(), alt, caption)


def _bars(labels: list[str], values: list[int], title: str, horizontal: bool = True) -> Any:
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.32 * len(labels))) if horizontal else (8, 3.2))
    if horizontal:
        ax.barh(labels[::-1], values[::-1], color=BLUE)
        ax.set_xlabel("événements")
    else:
        ax.bar(labels, values, color=BLUE)
        ax.set_ylabel("événements")
    ax.set_title(title)
    (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def region_chart(by_region: pd.DataFrame) -> str:
    """Events per region (all 18), horizontal bars, most first."""
    data = ranked_regions(by_region)
    names, counts = data["region_name"].astype(str).tolist(), data["events"].astype(int).tolist()
    alt = "Événements par région : " + " ; ".join(f"{n} {fr_int(c)}" for n, c in zip(names, counts, strict=True))
    return _figure(_bars(names, counts, "Événements par région"), alt, "Toutes les régions, outre-mer compris.")


LONG_SPAN_DAYS = 92


def day_chart(by_day: pd.DataFrame) -> str:
    """Events starting each day, as a timeline across the month."""
    days = pd.to_datetime(by_day["date"]) if len(by_day) else pd.Series(dtype="datetime64[ns]")
    fig, ax = plt.subplots(figsize=(8, 3))
    counts = by_day["events"].astype(int)
    long_span = len(by_day) > 0 and (days.max() - days.min()).days > LONG_SPAN_DAYS
    if long_span:
        # Years of history: one filled outline instead of thousands of bars (seconds to draw).
        ax.fill_between(days, counts, step="mid", color=BLUE)
    else:
        ax.bar(days, counts, color=BLUE, width=0.8)
    ax.set_title("Événements par jour")
    ax.set_ylabel("événements")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(DateFormatter("%m/%Y" if long_span else "%d/%m"))  # type: ignore[no-untyped-call]
    fig.autofmt_xdate()
    ax.spines[["top", "right"]].set_visible(False)
    busiest = by_day.sort_values("events", ascending=False).head(3)
    peaks = ", ".join(
        f"{french_date(d)} ({fr_int(int(n))})" for d, n in zip(busiest["date"], busiest["events"], strict=True)
    )
    first, last = (french_date(by_day["date"].min()), french_date(by_day["date"].max())) if len(by_day) else ("", "")
    alt = f"Événements par jour, du {first} au {last} ; jours les plus chargés : {peaks}"
    return _figure(fig, alt if len(by_day) else "Aucun événement daté", "Date locale de début de chaque événement.")


def type_chart(by_type: pd.DataFrame) -> str:
    """Events per type of the taxonomy."""
    data = by_type[by_type["events"] > 0].sort_values("events", ascending=False)
    labels = [TYPE_LABELS.get(str(t), str(t)) for t in data["event_type"]]
    counts = data["events"].astype(int).tolist()
    alt = "Événements par type : " + " ; ".join(f"{t} {fr_int(c)}" for t, c in zip(labels, counts, strict=True))
    return _figure(_bars(labels, counts, "Événements par type"), alt, "Types de la taxonomie documentée.")


def mode_chart(by_mode: pd.DataFrame) -> str:
    """Events per attendance mode."""
    labels = [MODE_LABELS.get(str(m), str(m)) for m in by_mode["attendance_mode"]]
    counts = by_mode["events"].astype(int).tolist()
    alt = "Événements par format : " + " ; ".join(f"{m} {fr_int(c)}" for m, c in zip(labels, counts, strict=True))
    return _figure(_bars(labels, counts, "Sur place, en ligne ou hybride", horizontal=False), alt, "Format annoncé.")
