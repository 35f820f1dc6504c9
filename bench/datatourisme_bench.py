"""Benchmark: a synthetic national DATAtourisme export, parsed and run end to end through `aggregator run`.

Run: ``.venv/bin/python bench/datatourisme_bench.py 200000``. Writes a ``@graph`` of N event objects
in the real complete export's shape (prefixed keys, lists everywhere, language maps, ``takesPlaceAt``
periods, ``isLocatedAt[0]."schema:address"[0]`` with ``hasAddressCity`` and its département and
region, ``schema:geo``, ``hasContact`` and ``hasBeenCreatedBy`` organisations, descriptions in
several languages), plus places that are not events as a regional export has them, then prints:
reading the JSON (the floor), parsing with the adapter, and ``aggregator run --engine local`` end
to end in a fresh process.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
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
from aggregator.sources.datatourisme import DatatourismeAdapter, DatatourismeSource

WORDS = [
    "exposition",
    "concert",
    "spectacle",
    "visite",
    "atelier",
    "conférence",
    "marché",
    "festival",
    "balade",
    "lecture",
    "projection",
    "patrimoine",
    "jardin",
    "musée",
    "château",
    "abbaye",
    "vignes",
    "photographie",
    "peinture",
    "sculpture",
    "histoire",
    "nature",
    "nuit",
    "contes",
    "jazz",
    "baroque",
    "cinéma",
    "danse",
    "théâtre",
    "cirque",
    "sciences",
    "étoiles",
    "automne",
]


def communes(rng: random.Random) -> list[tuple[str, str, str, str, str, float, float]]:
    """Communes of the reference tables with a postal code and coordinates: events spread over France."""
    table = reference.communes()
    table = table[(table["type"] == "COM") & table["latitude"].notna()]
    postal = reference.postal_codes().drop_duplicates("commune_insee").set_index("commune_insee")["postal_code"]
    table = table[table["commune_insee"].isin(postal.index)].sample(n=20_000, random_state=rng.randrange(1 << 30))
    return [
        (r.commune_insee, r.name, postal[r.commune_insee], r.departement_code, r.region_code, r.latitude, r.longitude)
        for r in table.itertuples(index=False)
    ]


KINDS = ["schema:ExhibitionEvent", "schema:TheaterEvent", "schema:ScreeningEvent", "CulturalEvent", "SportsEvent"]


def _label(text: str) -> dict[str, list[str]]:
    return {"fr": [text], "en": [text + " (en)"]}


def event(i: int, rng: random.Random, places: list[tuple[str, str, str, str, str, float, float]]) -> dict[str, object]:
    """One event object shaped like the complete export's."""
    insee, city, postal, dep, region, lat, lon = places[rng.randrange(len(places))]
    day = 1 + rng.randrange(30)
    periods = [{"@id": f"https://data.datatourisme.fr/p/{i}-{k}", "@type": ["Period"],
                "startDate": [f"2026-11-{day:02d}"], "endDate": [f"2026-11-{min(day + k, 30):02d}"],
                **({"startTime": ["14:00:00"], "endTime": ["17:30:00"]} if i % 3 else {})}
               for k in range(1 + i % 2)]  # fmt: skip
    return {
        "@id": f"https://data.datatourisme.fr/{dep}/{i:08x}-synthetic",
        "dc:identifier": f"FMA{i:09d}",
        "@type": ["schema:Event", KINDS[i % len(KINDS)], "EntertainmentAndEvent", "PointOfInterest"],
        "rdfs:label": _label(f"{' '.join(rng.sample(WORDS, 4)).capitalize()} : « {rng.choice(WORDS)} »"),
        "rdfs:comment": _label("Une exposition à découvrir, entrée libre."),
        "creationDate": ["2026-09-01"],
        "lastUpdate": ["2026-10-15"],
        "takesPlaceAt": periods,
        "schema:startDate": [p["startDate"][0] for p in periods],
        "schema:endDate": [p["endDate"][0] for p in periods],
        "isLocatedAt": [{
            "@id": f"https://data.datatourisme.fr/place/{i}", "@type": ["schema:Place"],
            "schema:address": [{
                "@id": f"https://data.datatourisme.fr/address/{i}", "@type": ["schema:PostalAddress"],
                "schema:addressLocality": [city], "schema:postalCode": [postal],
                "schema:streetAddress": [f"{i % 120} rue de la République"],
                "hasAddressCity": [{"@id": f"https://data.datatourisme.fr/c/{insee}", "insee": [insee],
                                    "rdfs:label": _label(city),
                                    "isPartOfDepartment": [{"insee": [dep], "rdfs:label": _label(f"Département {dep}"),
                                                            "isPartOfRegion": [{"insee": [region]}]}]}],
            }],
            "schema:geo": [{"schema:latitude": [f"{lat + rng.random() / 50:.6f}"],
                            "schema:longitude": [f"{lon + rng.random() / 50:.6f}"]}],
        }],
        "hasContact": [{"@type": ["foaf:Agent"], "schema:email": ["contact@example.org"],
                        "foaf:homepage": [f"https://agenda.example.org/{i}"]}],
        "hasBeenCreatedBy": {"@type": ["schema:Organization"], "schema:legalName": "Office de tourisme"},
        "hasDescription": [{"dc:description": _label("Une exposition d'œuvres récentes, visite libre.")}],
    }  # fmt: skip


def place(i: int) -> dict[str, object]:
    """A place that is not an event (a regional export has many)."""
    return {"@id": f"https://data.datatourisme.fr/poi/{i}", "@type": ["schema:Place", "PlaceOfInterest"],
            "rdfs:label": _label(f"Musée {i}"), "isLocatedAt": [{"schema:address": [{"schema:postalCode": ["49400"]}]}]}  # fmt: skip


def export(n: int, seed: int = 1) -> bytes:
    """``{"@graph": [...]}`` with ``n`` events and one place for every ten events."""
    rng = random.Random(seed)
    places = communes(rng)
    graph = [event(i, rng, places) for i in range(n)] + [place(i) for i in range(n // 10)]
    return json.dumps({"@context": {}, "@graph": graph}, ensure_ascii=False).encode("utf-8")


def run(n: int, repeat: int = 1) -> dict[str, Any]:
    """Measure ``n`` event objects ``repeat`` times (one export); print a line each, return the medians.

    The returned dict also holds each figure's runs, as ``<name>_runs`` (a list).
    """
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.json"
        path.write_bytes(export(n))
        os.sync()  # the 409 MB just written is on disk before anything is timed (no writeback during the runs)
        for _ in range(repeat):
            started = time.perf_counter()
            content = path.read_bytes()
            read = time.perf_counter() - started
            json.loads(content)
            floor = time.perf_counter() - started
            source = DatatourismeSource(id="dt", kind="datatourisme", url=str(path))
            started = time.perf_counter()
            records = DatatourismeAdapter().parse(Fetched(url=path.as_uri(), content=content, status=200), source)
            parse = time.perf_counter() - started
            count, size = len(records), len(content)
            # The run below is a fresh process, as a user's: this one gives back the gigabytes it holds
            # first (with them held, the same run took 61 s instead of 47 s on this VM).
            del records, content
            gc.collect()
            end_to_end = aggregator_run(
                Path(tmp),
                f"run: {{people_files_max_events: 0}}\nsources:\n  - {{id: dt, kind: datatourisme, url: {path}, "
                f"http: {{max_bytes: {size * 2}}}}}\n",
            )
            runs.append({"events": count, "read_s": read, "json_s": floor, "parse_s": parse,
                         "end_to_end_s": end_to_end.seconds, "write_floor_s": end_to_end.write_floor,
                         "exit_code": end_to_end.exit_code})  # fmt: skip
            print(
                f"DATAtourisme {n:,} events ({size / 1e6:.0f} MB): json.loads {floor:.1f} s | adapter {parse:.1f} s "
                f"({count / parse:,.0f} records/s, {parse / floor:.0f}x the floor) | aggregator run end to end "
                f"{end_to_end}"
            )
    return medians(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[200_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each size (medians returned)")
    args = parser.parse_args()
    for size in args.sizes:
        run(size, args.repeat)


if __name__ == "__main__":
    main()
