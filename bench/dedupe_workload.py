"""Labelled workload for deduplication: true events listed by simulated sources.

Duplicates carry the perturbations real listings show, and hard negatives are added. Independent
of the test fixtures.

``generate(n_events, difficulty, seed)`` returns listings in the ``listings`` schema with a
``true_event`` column (the label) and a ``true_series`` column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from aggregator import reference
from aggregator.config import Config, parse_config
from aggregator.schema import LISTINGS
from aggregator.validation import conform

TYPES = ["Atelier", "Conférence", "Webinaire", "Table ronde", "Formation", "Visite", "Hackathon", "Débat citoyen",
         "Rencontre", "Démonstration"]  # fmt: skip
TOPICS = ["design des services publics", "données ouvertes", "sobriété numérique", "intelligence artificielle",
          "simplification administrative", "participation citoyenne", "accueil des usagers", "achats innovants",
          "langage clair", "inclusion numérique", "transition écologique", "sciences comportementales",
          "tiers-lieux", "open source", "accessibilité", "évaluation des politiques", "management agile",
          "relation usagers", "dématérialisation", "cybersécurité", "mobilités", "santé publique",
          "éducation", "culture", "agriculture", "logement", "emploi", "jeunesse", "sport", "justice"]  # fmt: skip
AUDIENCES = ["pour les agents", "avec les usagers", "en territoire rural", "à l'école", "en préfecture", "en mairie",
             "au département", "en région", "pour les élus", "pour tous", "entre pairs", "en santé", "au tribunal",
             "au lycée", "en quartier prioritaire", "en entreprise publique", "pour les managers",
             "à l'hôpital", "en bibliothèque", "au musée"]  # fmt: skip
VENUES = ["Hôtel de Région", "Préfecture", "Mairie", "Médiathèque", "Tiers-lieu", "Lab d'innovation", "Maison France services",
          "Campus", "Université", "Salle des fêtes", "Centre culturel", "Maison des associations"]  # fmt: skip
SOURCES = [("national", 80), ("regional", 60), ("lab", 40), ("portal", 70), ("partner", 30)]


def _perturb_title(title: str, rng: np.random.Generator) -> str:
    choice = rng.integers(0, 8)
    if choice == 0:
        import unicodedata

        return "".join(c for c in unicodedata.normalize("NFKD", title) if not unicodedata.combining(c))
    if choice == 1:
        return title.upper()
    if choice == 2:
        return title.replace(" : ", " - ").replace("'", " ")
    if choice == 3:
        return f"[{title.split(' :')[0]}] {title.split(' : ', 1)[-1]}"
    if choice == 4:
        return f"{title} (inscription obligatoire)"
    if choice == 5:
        return title.lower().replace("saint", "st")
    if choice == 6:
        return f"{title} – Mois de l'innovation publique"
    return title.replace(" : ", ": ")


def generate(n_events: int, difficulty: float = 1.0, seed: int = 7, span_days: int = 365) -> pd.DataFrame:
    """Listings of ``n_events`` true events (series occurrences and same-venue neighbours included).

    Args:
        n_events: Number of distinct true events before hard negatives are added.
        difficulty: Scales how often duplicates are perturbed (1.0 = the default benchmark).
        seed: Random seed (the output is deterministic).
        span_days: Days the events are spread over. Fixed, the density (listings per département
            and day) grows with ``n_events``; grown with ``n_events``, the density stays fixed.
    """
    rng = np.random.default_rng(seed)
    communes = reference.communes()
    communes = communes[communes["type"] == "COM"].reset_index(drop=True)
    postal = reference.postal_codes().drop_duplicates("commune_insee").set_index("commune_insee")["postal_code"]
    deps = reference.departements().set_index("departement_code")
    regs = reference.regions().set_index("region_code")

    n = n_events
    title = [f"{TYPES[a]} : {TOPICS[b]} {AUDIENCES[c]}" for a, b, c in zip(
        rng.integers(0, len(TYPES), n), rng.integers(0, len(TOPICS), n), rng.integers(0, len(AUDIENCES), n),
        strict=True)]  # fmt: skip
    day = rng.integers(0, span_days, n)
    minute = rng.integers(8 * 4, 19 * 4, n) * 15
    all_day = rng.random(n) < 0.08
    online = rng.random(n) < 0.08
    place = communes.iloc[rng.integers(0, len(communes), n)].reset_index(drop=True)
    venue = [f"{VENUES[v]} de {city}" for v, city in zip(rng.integers(0, len(VENUES), n), place["name"], strict=True)]
    events = pd.DataFrame({"title": title, "day": day, "minute": minute, "all_day": all_day, "online": online,
                           "venue": venue, "commune": place["commune_insee"], "city": place["name"],
                           "dep": place["departement_code"], "region": place["region_code"]})  # fmt: skip
    events["series"] = np.arange(n)
    # Hard negatives: the same workshop again a week or two later (a series), and another event in
    # the same venue at the same time.
    repeats = events[rng.random(n) < 0.10].copy()
    repeats["day"] = repeats["day"] + rng.choice([7, 14], len(repeats))
    neighbours = events[rng.random(n) < 0.05].copy()
    neighbours["title"] = [f"{TYPES[a]} : {TOPICS[b]} {AUDIENCES[c]}" for a, b, c in zip(
        rng.integers(0, len(TYPES), len(neighbours)), rng.integers(0, len(TOPICS), len(neighbours)),
        rng.integers(0, len(AUDIENCES), len(neighbours)), strict=True)]  # fmt: skip
    neighbours["series"] = np.arange(n, n + len(neighbours))
    events = pd.concat([events, repeats, neighbours], ignore_index=True)
    events["true_event"] = np.arange(len(events))

    # Listings: every event on one source, then on a second (35 %) and a third (10 %) one.
    copies = [events.assign(copy=0)]
    copies.append(events[rng.random(len(events)) < 0.35].assign(copy=1))
    copies.append(events[rng.random(len(events)) < 0.10].assign(copy=2))
    rows = pd.concat(copies, ignore_index=True)
    m = len(rows)
    source_index = (rng.integers(0, len(SOURCES), m) + rows["copy"].to_numpy()) % len(SOURCES)
    # Copies of one event come from distinct sources.
    first_source = {e: s for e, s, c in zip(rows["true_event"], source_index, rows["copy"], strict=True) if c == 0}
    source_index = np.array(
        [(first_source[e] + c) % len(SOURCES) for e, c in zip(rows["true_event"], rows["copy"], strict=True)]
    )
    rows["source_id"] = [SOURCES[i][0] for i in source_index]

    perturb = (rows["copy"].to_numpy() > 0) & (rng.random(m) < min(1.0, 0.8 * difficulty))
    titles = rows["title"].to_numpy(dtype=object).copy()
    for i in np.flatnonzero(perturb):
        titles[i] = _perturb_title(titles[i], rng)
    start = pd.Timestamp("2026-01-01", tz="Europe/Paris") + pd.to_timedelta(rows["day"], unit="D")
    start = start + pd.to_timedelta(np.where(rows["all_day"], 0, rows["minute"]), unit="m")
    start_utc = start.dt.tz_convert("UTC")
    shift = perturb & ~rows["all_day"].to_numpy() & (rng.random(m) < 0.15 * difficulty)
    start_utc = start_utc + pd.to_timedelta(np.where(shift, rng.choice([60, 120], m), 0), unit="m")
    date_only = perturb & (rng.random(m) < 0.10 * difficulty)
    all_day_listing = rows["all_day"].to_numpy() | date_only
    local_midnight = start.dt.normalize().dt.tz_convert("UTC")
    start_utc = start_utc.where(~date_only, local_midnight)
    drop_city = perturb & (rng.random(m) < 0.15 * difficulty)
    venue_variant = perturb & (rng.random(m) < 0.3 * difficulty)
    venues = rows["venue"].to_numpy(dtype=object).copy()
    for i in np.flatnonzero(venue_variant):
        venues[i] = venues[i].replace(" de ", " - ").upper() if rng.random() < 0.5 else venues[i].split(" de ")[0]
    online_rows = rows["online"].to_numpy()
    listings = pd.DataFrame({
        "listing_id": [f"li-{i:012d}" for i in range(m)],
        "source_id": rows["source_id"], "source_kind": "json", "source_uid": [f"u{i}" for i in range(m)],
        "event_id": "", "title": titles, "start_at": start_utc.to_numpy(), "end_at": None,
        "timezone": "Europe/Paris", "all_day": all_day_listing,
        "attendance_mode": np.where(online_rows, "online", "in_person"), "event_type": "autre", "status": "scheduled",
        "venue_name": np.where(online_rows, None, venues),
        "postal_code": np.where(online_rows, None, rows["commune"].map(postal).to_numpy()),
        "city": np.where(online_rows | drop_city, None, rows["city"].to_numpy()),
        "commune_insee": np.where(online_rows, None, rows["commune"].to_numpy()),
        "departement_code": np.where(online_rows, None, rows["dep"].to_numpy()),
        "region_code": np.where(online_rows, None, rows["region"].to_numpy()),
        "geo_precision": np.where(online_rows, "none", "commune"),
        "fetched_at": pd.Timestamp("2026-11-25T02:00Z"),
    })  # fmt: skip
    listings["departement_name"] = listings["departement_code"].map(deps["departement_name"])
    listings["region_name"] = listings["region_code"].map(regs["region_name"])
    out = conform(listings, LISTINGS)
    out["true_event"] = rows["true_event"].to_numpy()
    out["true_series"] = rows["series"].to_numpy()
    return out


# --- the same workload as raw records, for the benchmarks of the whole core ---------------------


def raw_records(n_events: int) -> pd.DataFrame:
    """Raw records as adapters give them, from the labelled workload (fixed density: see dedupe_bench)."""
    listings = generate(n_events, 1.0, span_days=max(365, round(365 * n_events / 60_000)))
    local = listings["start_at"].dt.tz_convert("Europe/Paris")
    start = local.dt.strftime("%Y-%m-%dT%H:%M").where(~listings["all_day"], local.dt.strftime("%Y-%m-%d"))
    return pd.DataFrame({
        "source_id": listings["source_id"], "source_kind": "json", "uid": listings["source_uid"],
        "title": listings["title"], "description": None, "start": start, "end": None, "when": None,
        "timezone": None, "venue_name": listings["venue_name"], "street_address": None,
        "postal_code": listings["postal_code"], "city": listings["city"], "commune_insee": None,
        "departement": None, "region": None, "latitude": None, "longitude": None, "organizer": None,
        "url": None, "registration_url": None, "online_url": None, "event_type": None,
        "attendance_mode": listings["attendance_mode"].where(listings["attendance_mode"] == "online"),
        "status": None, "keywords": None, "page_url": None, "raw": "{}", "reject_reason": None,
        "fetched_at": listings["fetched_at"],
    })  # fmt: skip


def bench_config() -> Config:
    """The workload's sources, as json sources of sources.yaml would declare them."""
    return parse_config(
        {"sources": [{"id": s, "kind": "json", "url": f"https://{s}.example.org", "priority": p,
                      "fields": {"title": "title", "start": "start"}} for s, p in SOURCES]},
        Path("bench.yaml"),
    )  # fmt: skip
