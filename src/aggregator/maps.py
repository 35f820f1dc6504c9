"""Maps of France (events per region and per département), drawn with matplotlib from the shipped outlines."""

from __future__ import annotations

import io
import itertools
import json
import math
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: maps are rendered to bytes

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.colors import BoundaryNorm, ListedColormap

from aggregator.french import typography

CREDIT = "Fond de carte : IGN Admin Express (Licence Ouverte), simplifié"
# Overseas territories drawn as insets, west to east as the INSEE lists them.
INSETS = (("971", "01", "Guadeloupe"), ("972", "02", "Martinique"), ("973", "03", "Guyane"),
          ("974", "04", "La Réunion"), ("976", "06", "Mayotte"))  # fmt: skip
# Paris and the petite couronne: too small to read on the national map, drawn again in an inset.
PARIS_INSET = ("75", "92", "93", "94")
METROPOLE = (-5.3, 9.7, 41.2, 51.2)  # lon/lat box of metropolitan France, Corsica included
NONE_COLOUR = "#eeeeee"
# From light to the French State's blue (#000091), readable as grey levels and by colour-blind readers.
SCALE = ("#e3e3fd", "#cacafb", "#a1a1f8", "#6a6af4", "#3434d0", "#000091")


@cache
def outlines() -> dict[str, Any]:
    """The simplified outlines (``scripts/build_maps.py``): ``regions`` and ``departements`` by INSEE code."""
    text = resources.files("aggregator.data").joinpath("outlines.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def classes(counts: list[int]) -> list[int]:
    """Upper bounds of at most six classes for ``counts`` (0 gets its own grey), rounded for a legend."""
    top = max(counts, default=0)
    if top <= 0:
        return [1]
    if top <= len(SCALE):
        return list(range(1, top + 1))
    step = max(1, math.ceil(top / len(SCALE)))
    magnitude = 10 ** max(0, len(str(step)) - 1)
    step = math.ceil(step / magnitude) * magnitude
    return [step * (i + 1) for i in range(math.ceil(top / step))]


def _draw(ax: Any, shapes: dict[str, list[Any]], counts: dict[str, int], norm: Any, cmap: Any) -> None:
    polygons, values = [], []
    for code, rings in shapes.items():
        for ring in rings:
            polygons.append(ring)
            values.append(counts.get(code, 0))
    collection = PolyCollection(polygons, cmap=cmap, norm=norm, edgecolors="white", linewidths=0.4)
    collection.set_array(values)
    ax.add_collection(collection)
    ax.set_axis_off()


def _aspect(ax: Any, latitude: float) -> None:
    # Equirectangular at the map's latitude: a degree of longitude is shorter than one of latitude.
    ax.set_aspect(1 / math.cos(math.radians(latitude)))


def _frame(ax: Any, rings: list[Any], margin: float) -> None:
    """Zoom ``ax`` on ``rings`` with ``margin`` (a share of their larger side) around, at their latitude's aspect."""
    west, east, south, north = _bounds(rings)
    pad = margin * max(east - west, north - south)
    ax.set_xlim(west - pad, east + pad)
    ax.set_ylim(south - pad, north + pad)
    _aspect(ax, (south + north) / 2)


def _bounds(rings: list[Any]) -> tuple[float, float, float, float]:
    xs = [p[0] for ring in rings for p in ring]
    ys = [p[1] for ring in rings for p in ring]
    return min(xs), max(xs), min(ys), max(ys)


def _label_point(rings: list[Any]) -> tuple[float, float]:
    largest = max(rings, key=len)
    return sum(p[0] for p in largest) / len(largest), sum(p[1] for p in largest) / len(largest)


def france_map(counts: dict[str, int], level: str, title: str, labels: bool) -> Any:
    """A choropleth of France: metropolitan France and the five overseas regions as insets.

    Args:
        counts: Events per INSEE code of ``level``.
        level: ``regions`` or ``departements``.
        title: The map's title (French).
        labels: Write each territory's count on it (regions: 18 labels stay readable).

    Returns:
        The matplotlib figure (caller saves and closes it).
    """
    shapes: dict[str, list[Any]] = outlines()[level]
    bounds = classes(list(counts.values()))
    colours = [NONE_COLOUR, *SCALE[-len(bounds) :]] if len(bounds) < len(SCALE) else [NONE_COLOUR, *SCALE]
    cmap = ListedColormap(colours)
    norm = BoundaryNorm([0, 1, *[b + 1 for b in bounds]], cmap.N)
    # Region codes 01-06 are overseas; département codes 01-06 are Ain to Alpes-Maritimes.
    overseas = {region if level == "regions" else departement for departement, region, _ in INSETS}
    fig = plt.figure(figsize=(8, 7.6))
    ax = fig.add_axes((0.22, 0.08, 0.78, 0.84))
    _draw(ax, {c: r for c, r in shapes.items() if c not in overseas}, counts, norm, cmap)
    ax.set_xlim(METROPOLE[0], METROPOLE[1])
    ax.set_ylim(METROPOLE[2], METROPOLE[3])
    _aspect(ax, 46.5)
    if labels:
        for code, rings in shapes.items():
            if code not in overseas:
                x, y = _label_point(rings)
                _label(ax, x, y, counts.get(code, 0))
    for index, (departement, region, name) in enumerate(INSETS):
        code = region if level == "regions" else departement
        inset = fig.add_axes((0.01, 0.76 - index * 0.165, 0.17, 0.14))
        rings = shapes[code]
        _draw(inset, {code: rings}, counts, norm, cmap)
        _frame(inset, rings, 0.08)
        inset.set_title(f"{name} : {counts.get(code, 0)}", fontsize=8, pad=2)
    if level == "departements":
        _paris_inset(fig, {code: shapes[code] for code in PARIS_INSET}, counts, norm, cmap)
    legend_ax = fig.add_axes((0.3, 0.045, 0.6, 0.018))
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), cax=legend_ax, orientation="horizontal")
    edges = [0, 1, *[b + 1 for b in bounds]]  # class k holds counts edges[k] to edges[k + 1] - 1
    bar.set_ticks([(lo + hi) / 2 for lo, hi in itertools.pairwise(edges)])
    bar.set_ticklabels([_range(lo, hi - 1) for lo, hi in itertools.pairwise(edges)])
    bar.ax.tick_params(labelsize=8, length=0)
    fig.suptitle(typography(title), x=0.6, y=0.97, fontsize=14, color="#161616")
    fig.text(0.99, 0.005, typography(CREDIT), ha="right", va="bottom", fontsize=7, color="#555555")
    return fig


def _paris_inset(fig: Any, shapes: dict[str, list[Any]], counts: dict[str, int], norm: Any, cmap: Any) -> None:
    """Paris and the petite couronne, zoomed in the top right corner (over Belgium and Germany), counts on."""
    inset = fig.add_axes((0.80, 0.765, 0.19, 0.16))
    _draw(inset, shapes, counts, norm, cmap)
    _frame(inset, [ring for rings in shapes.values() for ring in rings], 0.05)
    for code, rings in shapes.items():
        x, y = _label_point(rings)
        _label(inset, x, y, counts.get(code, 0), size=7)
    inset.set_title("Paris et petite couronne", fontsize=8, pad=2)


def _range(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


def _label(ax: Any, x: float, y: float, count: int, size: int = 9) -> None:
    box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}
    ax.text(x, y, str(count), ha="center", va="center", fontsize=size, fontweight="bold", color="#161616", bbox=box)


def region_counts(by_region: pd.DataFrame) -> dict[str, int]:
    """Events per region code from ``stats.by_region``."""
    return {str(c): int(n) for c, n in zip(by_region["region_code"], by_region["events"], strict=True)}


def departement_counts(by_departement: pd.DataFrame) -> dict[str, int]:
    """Events per département code from ``stats.by_departement``."""
    return {str(c): int(n) for c, n in zip(by_departement["departement_code"], by_departement["events"], strict=True)}


def render(fig: Any) -> dict[str, bytes]:
    """The figure as PNG (150 dpi, for slides) and SVG (for print), then closed."""
    out = {}
    for fmt, options in (("png", {"dpi": 150}), ("svg", {"metadata": {"Date": None}})):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, facecolor="white", **options)
        out[fmt] = buffer.getvalue()
    plt.close(fig)
    return out


def maps(by_region: pd.DataFrame, by_departement: pd.DataFrame) -> dict[str, dict[str, bytes]]:
    """Both maps, rendered: ``{"regions": {"png": …, "svg": …}, "departements": {…}}``."""
    return {
        "regions": dict(_rendered("regions", tuple(sorted(region_counts(by_region).items())))),
        "departements": dict(_rendered("departements", tuple(sorted(departement_counts(by_departement).items())))),
    }


@lru_cache(maxsize=8)
def _rendered(level: str, counts: tuple[tuple[str, int], ...]) -> dict[str, bytes]:
    # A map depends on its counts only: the same counts (a rerun, the tests) are drawn once (0.3 s each).
    title = "Événements par région" if level == "regions" else "Événements par département"
    return render(france_map(dict(counts), level, title, labels=level == "regions"))
