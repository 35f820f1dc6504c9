"""Benchmark: the CSV and feed adapters on big generated files, against the standard library's reader.

Run: ``.venv/bin/python bench/parsers_bench.py [--csv-rows 200000] [--feed-items 20000]``. The CSV
has the shape of a city's agenda export (date and hour in two columns joined by the source's
``fields``, quoted text with separators); the feed is RSS 2.0 whose items date their event in
prose ("programmé le 19 novembre 2026 à 14h30", "Lieu : 40440 Ondres"). Floors: ``csv.reader``
over the same text, ``xml.etree.ElementTree`` building the same document.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

from aggregator.config import parse_config
from aggregator.http import Fetched
from aggregator.sources import get_adapter


def csv_file(n: int, seed: int = 1) -> bytes:
    """An agenda export of ``n`` rows: title, date, hour, venue, postal code, city, description, link."""
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Titre", "Date", "Heure", "Lieu", "Code postal", "Ville", "Description", "Lien"])
    for i in range(n):
        writer.writerow([
            f"Atelier n°{i} conférence", f"{rng.randint(1, 28):02d}/11/2026", f"{rng.randint(8, 20)}h30",
            f"Salle {i % 500}", f"{rng.randint(10, 95)}000", "Ville", "Un atelier pour tester, des idées; en petit groupe.",
            f"https://agenda.example.org/e/{i}",
        ])  # fmt: skip
    return buffer.getvalue().encode("utf-8")


def feed_file(n: int) -> bytes:
    """RSS 2.0 with ``n`` items dated in prose, as real event feeds write them."""
    description = escape("Atelier programmé le 19 novembre 2026 à 14h30. Lieu : 40440 Ondres")
    items = "".join(
        f"<item><title>Atelier n°{i}</title><link>https://agenda.example.org/e/{i}</link><guid>e{i}</guid>"
        f"<pubDate>Mon, 02 Nov 2026 08:00:00 +0100</pubDate><description>{description}</description></item>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Agenda</title>'
        f"<link>https://agenda.example.org/</link>{items}</channel></rss>"
    ).encode()


def _source(spec: dict[str, object]) -> object:
    return parse_config({"sources": [spec]}, Path("sources.yaml"), {}).sources[0]


def run(csv_rows: int, feed_items: int) -> dict[str, float]:
    """Measure both adapters; print a line each and return the figures."""
    content = csv_file(csv_rows)
    started = time.perf_counter()
    list(csv.reader(io.StringIO(content.decode("utf-8"))))
    csv_floor = time.perf_counter() - started
    source = _source({"id": "c", "kind": "csv", "url": "x", "fields": {
        "title": "Titre", "start": ["Date", "Heure"], "venue_name": "Lieu", "postal_code": "Code postal",
        "city": "Ville", "description": "Description", "url": "Lien"}})  # fmt: skip
    started = time.perf_counter()
    records = get_adapter("csv").parse(Fetched(url="https://example.org/a.csv", content=content, status=200), source)
    csv_s = time.perf_counter() - started
    print(f"CSV {len(records):,} rows ({len(content) / 1e6:.0f} MB): csv.reader {csv_floor:.2f} s | adapter {csv_s:.2f} s "
          f"({len(records) / csv_s:,.0f} rows/s, {csv_s / csv_floor:.1f}x the floor)")  # fmt: skip
    content = feed_file(feed_items)
    started = time.perf_counter()
    ET.fromstring(content)
    feed_floor = time.perf_counter() - started
    started = time.perf_counter()
    records = get_adapter("feed").parse(
        Fetched(url="https://example.org/feed.xml", content=content, status=200),
        _source({"id": "f", "kind": "feed", "url": "x"}),
    )
    feed_s = time.perf_counter() - started
    print(f"RSS {len(records):,} items ({len(content) / 1e6:.1f} MB): ElementTree {feed_floor:.2f} s | adapter "
          f"{feed_s:.2f} s ({len(records) / feed_s:,.0f} items/s, {feed_s / feed_floor:.0f}x the floor)")  # fmt: skip
    return {"csv_rate": csv_rows / csv_s, "csv_ratio": csv_s / csv_floor, "feed_rate": feed_items / feed_s,
            "feed_ratio": feed_s / feed_floor}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv-rows", type=int, default=200_000)
    parser.add_argument("--feed-items", type=int, default=20_000)
    args = parser.parse_args()
    run(args.csv_rows, args.feed_items)


if __name__ == "__main__":
    main()
