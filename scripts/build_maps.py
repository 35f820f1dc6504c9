"""Simplify the IGN outlines of ../shared/data/reference/geojson into the package's map data (outlines.json)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "reference" / "geojson"
TARGET = ROOT / "src" / "aggregator" / "data" / "outlines.json"
# One overseas region is one département: its outline stands for both maps.
OVERSEAS = {"01": "971", "02": "972", "03": "973", "04": "974", "06": "976"}
TOLERANCE_DEG = 0.008  # about 700 m: invisible at slide size, a few percent of the points kept
MIN_AREA_DEG2 = 0.0004  # islets under about 4 km² are dropped, unless they are a territory's largest ring
DECIMALS = 3  # about 100 m


def simplify(ring: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker on one closed ring (first point repeated last); keeps at least 4 points."""
    keep = np.zeros(len(ring), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(ring) - 1)]
    while stack:
        first, last = stack.pop()
        if last <= first + 1:
            continue
        start, end = ring[first], ring[last]
        segment = end - start
        points = ring[first + 1 : last] - start
        length = math.hypot(*segment)
        if length == 0:
            distances = np.hypot(points[:, 0], points[:, 1])
        else:
            distances = np.abs(segment[0] * points[:, 1] - segment[1] * points[:, 0]) / length
        index = int(np.argmax(distances))
        if distances[index] > tolerance:
            middle = first + 1 + index
            keep[middle] = True
            stack += [(first, middle), (middle, last)]
    out = ring[keep]
    if len(out) < 4:  # a ring Douglas-Peucker flattened: keep its extreme points instead
        picks = sorted({0, int(np.argmin(ring[:, 0])), int(np.argmax(ring[:, 0])), int(np.argmax(ring[:, 1]))})
        out = np.vstack([ring[picks], ring[:1]])
    return out


def area(ring: np.ndarray) -> float:
    """Unsigned shoelace area, in square degrees."""
    x, y = ring[:, 0], ring[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)


def outlines(geometry: dict[str, Any]) -> list[list[list[float]]]:
    """The simplified exterior rings of a Polygon or MultiPolygon (holes are drawn by their owners)."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    rings = [np.asarray(polygon[0], dtype=float) for polygon in polygons]
    largest = max(area(r) for r in rings)
    kept = [r for r in rings if area(r) >= MIN_AREA_DEG2 or area(r) == largest]
    return [np.round(simplify(r, TOLERANCE_DEG), DECIMALS).tolist() for r in kept]


def build(source: Path, target: Path) -> dict[str, int]:
    """Write ``target`` from the two GeoJSON files under ``source``; returns points per layer."""
    regions = json.loads((source / "regions-avec-outre-mer.geojson").read_text(encoding="utf-8"))
    deps = json.loads((source / "departements-version-simplifiee.geojson").read_text(encoding="utf-8"))
    data: dict[str, Any] = {
        "credit": "IGN Admin Express (Licence Ouverte), via gregoiredavid/france-geojson, simplified",
        "tolerance_deg": TOLERANCE_DEG,
        "regions": {f["properties"]["code"]: outlines(f["geometry"]) for f in regions["features"]},
        "departements": {f["properties"]["code"]: outlines(f["geometry"]) for f in deps["features"]},
    }
    for region, departement in OVERSEAS.items():
        data["departements"][departement] = data["regions"][region]
    target.write_text(json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    return {
        layer: sum(len(ring) for rings in data[layer].values() for ring in rings)
        for layer in ("regions", "departements")
    }


def main() -> None:
    """Command line: ``python scripts/build_maps.py [--source DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    points = build(args.source, TARGET)
    print(f"{TARGET.relative_to(ROOT)}: {TARGET.stat().st_size:,} bytes, points {points}")


if __name__ == "__main__":
    main()
