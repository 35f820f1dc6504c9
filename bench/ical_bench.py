"""Benchmark: a large iCalendar file, parsed (fast path and library) and end to end through `aggregator run`.

Run: ``.venv/bin/python bench/ical_bench.py 100000``. Writes a synthetic calendar of N events in the
common shapes real publishers use (folded lines, VTIMEZONE, ``DTSTART;TZID=``, UTC and all-day
events, escaped text, LOCATION with a postal code, GEO on some), then prints: reading the file (the
floor), parsing it with the fast path and with the icalendar library (on a tenth of it: the library
is linear), and ``aggregator run --engine local`` on it, end to end, in a fresh process.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from end_to_end import aggregator_run, medians

from aggregator import reference
from aggregator.http import Fetched
from aggregator.sources import ical as ical_module
from aggregator.sources.ical import IcalAdapter, IcalSource

VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\n"
    "TZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
    "DTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
    "END:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
)


def _fold(line: str) -> str:
    data, out = line.encode("utf-8"), []
    while len(data) > 75:
        cut = 75
        while data[cut] & 0xC0 == 0x80:  # never inside a UTF-8 sequence
            cut -= 1
        out.append(data[:cut])
        data = b" " + data[cut:]
    out.append(data)
    return b"\r\n".join(out).decode("utf-8")


WORDS = [
    "atelier",
    "conférence",
    "visite",
    "exposition",
    "rencontre",
    "débat",
    "formation",
    "hackathon",
    "démonstration",
    "table",
    "ronde",
    "données",
    "usagers",
    "design",
    "simplification",
    "numérique",
    "territoire",
    "santé",
    "école",
    "mobilité",
    "climat",
    "achats",
    "accueil",
    "participation",
    "citoyenne",
    "laboratoire",
    "innovation",
    "service",
    "public",
    "agents",
    "transformation",
    "écoute",
]


def _places(rng: random.Random) -> list[tuple[str, str]]:
    """Postal codes and names of La Poste's table: events spread over France as real ones are."""
    table = reference.postal_codes()[["postal_code", "poste_name"]].drop_duplicates("postal_code")
    return list(table.sample(n=min(len(table), 5000), random_state=rng.randrange(1 << 30)).itertuples(index=False))


def calendar(n: int, seed: int = 1) -> bytes:
    """A calendar of ``n`` distinct events, November 2026, in the shapes real feeds use."""
    rng = random.Random(seed)
    places = _places(rng)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//FR", "X-WR-TIMEZONE:Europe/Paris"]
    parts = [("\r\n".join(lines) + "\r\n" + VTIMEZONE).encode()]
    for i in range(n):
        postal, city = places[rng.randrange(len(places))]
        day, hour = 1 + i % 30, 8 + i % 11
        event = ["BEGIN:VEVENT", f"UID:bench-{i}@example.org", "DTSTAMP:20261001T000000Z"]
        shape = i % 10
        if shape < 7:
            event += [f"DTSTART;TZID=Europe/Paris:202611{day:02d}T{hour:02d}0000",
                      f"DTEND;TZID=Europe/Paris:202611{day:02d}T{hour + 2:02d}0000"]  # fmt: skip
        elif shape < 9:
            event += [f"DTSTART:202611{day:02d}T{hour:02d}0000Z", "DURATION:PT1H30M"]
        else:
            event += [f"DTSTART;VALUE=DATE:202611{day:02d}", f"DTEND;VALUE=DATE:202611{min(day + 1, 30):02d}"]
        event += [
            f"SUMMARY:{' '.join(rng.sample(WORDS, 5)).capitalize()} \\, {rng.choice(WORDS)} n°{i % 97}",
            _fold(f"DESCRIPTION:Un atelier pour tester des idées\\nen petit groupe\\; inscription conseillée. #{i}"),
            f"LOCATION:Salle {i % 97}\\, {i % 200} rue de la République\\, {postal} {city}",
            f"URL:https://agenda.example.org/evenements/{i}",
            "CATEGORIES:Atelier,Innovation",
        ]
        if i % 3 == 0:
            event.append(f"GEO:{44 + rng.random():.4f};{-0.5 + rng.random():.4f}")
        event.append("END:VEVENT")
        parts.append(("\r\n".join(event) + "\r\n").encode("utf-8"))
    parts.append(b"END:VCALENDAR\r\n")
    return b"".join(parts)


def _parse(content: bytes, library: bool) -> tuple[int, float]:
    source = IcalSource(id="bench", kind="ical", url="https://example.org/bench.ics")
    page = Fetched(url="https://example.org/bench.ics", content=content, status=200)
    saved = ical_module.read_fast
    if library:
        ical_module.read_fast = lambda _: None  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        records = IcalAdapter().parse(page, source)
        return len(records), time.perf_counter() - started
    finally:
        ical_module.read_fast = saved


def run(n: int, repeat: int = 1) -> dict[str, Any]:
    """Measure ``n`` events ``repeat`` times (one calendar); print a line each, return the medians.

    The returned dict also holds each figure's runs, as ``<name>_runs`` (a list), so that a
    table can give the spread of a machine whose speed moves between runs.
    """
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.ics"
        path.write_bytes(calendar(n))
        sample = calendar(max(n // 10, 1))
        for _ in range(repeat):
            started = time.perf_counter()
            content = path.read_bytes()
            floor = time.perf_counter() - started
            count, fast = _parse(content, library=False)
            sample_count, slow = _parse(sample, library=True)
            end_to_end = aggregator_run(
                Path(tmp),
                f"sources:\n  - {{id: bench, kind: ical, url: {path}, http: {{max_bytes: {len(content) * 2}}}}}\n",
            )
            size = len(content) / 1e6
            runs.append({"events": count, "read_s": floor, "parse_s": fast, "parse_rate": count / fast,
                         "library_rate": sample_count / slow, "end_to_end_s": end_to_end.seconds,
                         "write_floor_s": end_to_end.write_floor, "exit_code": end_to_end.exit_code})  # fmt: skip
            print(
                f"iCal {n:,} events ({size:.1f} MB): read {floor:.2f} s | fast path {fast:.2f} s "
                f"({count / fast:,.0f} events/s, {fast / floor:,.0f}x the read) | library "
                f"{sample_count / slow:,.0f} events/s (on {sample_count:,}) | aggregator run end to end {end_to_end}"
            )
    return medians(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each size (medians returned)")
    args = parser.parse_args()
    for size in args.sizes:
        run(size, args.repeat)


if __name__ == "__main__":
    main()
