"""Ready-to-quote totals in French: ``totals.json`` (documented keys) and ``totals.md``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from aggregator.french import typography

LOCALE = "fr_FR"
PARIS = "Europe/Paris"
TOTALS_SCHEMA_VERSION = "1.0"

# How to say "in <region>" in French; the official names do not carry it.
REGION_IN = {
    "01": "en Guadeloupe",
    "02": "en Martinique",
    "03": "en Guyane",
    "04": "à La Réunion",
    "06": "à Mayotte",
    "11": "en Île-de-France",
    "24": "en Centre-Val de Loire",
    "27": "en Bourgogne-Franche-Comté",
    "28": "en Normandie",
    "32": "dans les Hauts-de-France",
    "44": "dans le Grand Est",
    "52": "dans les Pays de la Loire",
    "53": "en Bretagne",
    "75": "en Nouvelle-Aquitaine",
    "76": "en Occitanie",
    "84": "en Auvergne-Rhône-Alpes",
    "93": "en Provence-Alpes-Côte d'Azur",
    "94": "en Corse",
}


def number(value: int | float) -> str:
    """French number: narrow no-break space between thousands, decimal comma ('12 345', '2,5')."""
    return str(format_decimal(value, locale=LOCALE))


def percent(share: float) -> str:
    """French percentage with one decimal and a narrow no-break space before '%' ('12,5 %')."""
    text = str(format_percent(share, locale=LOCALE, format="#,##0.0 %"))
    return text.replace("\xa0%", "\u202f%").replace(" %", "\u202f%")


def plural(count: int, one: str, many: str) -> str:
    """French agreement: singular for 0 and 1, plural from 2 ('0 ligne écartée' reads 'aucune' once set)."""
    return f"{number(count)} {many if count > 1 else one}"


def events_word(count: int) -> str:
    """'0 événement' (set as 'aucun événement' by ``typography``), '1 événement', '1 234 événements'."""
    return plural(count, "événement", "événements")


def rounded_total(count: int) -> str:
    """A figure safe to quote: 'Plus de 350 événements' for 362, the exact count when small or round."""
    step = 50 if count >= 200 else 10 if count >= 30 else 1
    floor = count // step * step
    if floor == count:
        return events_word(count).capitalize()
    return f"Plus de {events_word(floor)}"


def data_time(when: pd.Timestamp) -> str:
    """'1er novembre 2022 à 6 h 00', in Paris time, set by ``typography``."""
    local = when.tz_convert(PARIS).to_pydatetime()
    return typography(str(format_datetime(local, "d MMMM y 'à' H 'h' mm", locale=LOCALE)))


def french_time(local: datetime, all_day: bool = False) -> str:
    """A local wall-clock time for people: '5 novembre 2026 à 14 h 00', '1er décembre 2026' (all day)."""
    pattern = "d MMMM y" if all_day else "d MMMM y 'à' H 'h' mm"
    return typography(str(format_datetime(local, pattern, locale=LOCALE)))


def french_date(day: date) -> str:
    """'1er novembre 2026'."""
    return typography(str(format_date(day, "d MMMM y", locale=LOCALE)))


def build_totals(
    events: pd.DataFrame,
    listings: pd.DataFrame,
    rejects: pd.DataFrame,
    by_region: pd.DataFrame,
    by_departement: pd.DataFrame,
    data_as_of: pd.Timestamp,
) -> dict[str, Any]:
    """The totals as plain data, the content of ``totals.json``.

    Keys: ``schema_version``, ``data_as_of`` (ISO UTC), ``data_as_of_fr``, ``events``,
    ``listings``, ``rejects``, ``duplicates_merged``, ``dedup_ratio`` (listings per event),
    ``attendance`` (counts per mode),
    ``online_share``, ``located_in_region``, ``located_share``, ``regions`` (18 rows: code, name,
    events, online, sentence), ``top_departements`` (5 rows), ``headline``, ``sentences``; the
    pipeline adds ``edition`` (``edition_summary``) and ``sentences.edition``.
    """
    n_events, n_listings = len(events), len(listings)
    modes = events["attendance_mode"].value_counts()
    attendance = {m: int(modes.get(m, 0)) for m in ("in_person", "online", "hybrid", "unknown")}
    located = int(events["region_code"].notna().sum())
    regions: list[dict[str, Any]] = [
        {
            "code": str(row["region_code"]),
            "name": str(row["region_name"]),
            "events": int(row["events"]),
            "online": int(row["online"]),
            "sentence": typography(
                f"{events_word(int(row['events']))} "
                f"{REGION_IN.get(str(row['region_code']), 'en ' + str(row['region_name']))}"
                + (f", dont {number(int(row['online']))} en ligne" if int(row["online"]) else "")
            ),
        }
        for row in by_region.to_dict("records")
    ]
    top = by_departement[by_departement["events"] > 0].sort_values(
        ["events", "departement_code"], ascending=[False, True]
    )
    top_deps = [
        {"code": str(r["departement_code"]), "name": str(r["departement_name"]), "events": int(r["events"])}
        for r in top.head(5).to_dict("records")
    ]
    leader = max(regions, key=lambda r: (r["events"], -int(r["code"])))
    online = attendance["online"]
    headline = (
        f"{events_word(n_events)} ({plural(n_listings, 'annonce', 'annonces')} avant dédoublonnage)"
        f" · {leader['name']} : {number(leader['events'])} · en ligne : {number(online)}"
    )
    share_online = online / n_events if n_events else 0.0
    share_located = located / n_events if n_events else 0.0
    sentences = {
        "total": f"{rounded_total(n_events)} recensés ({number(n_events)} exactement).",
        "online": (
            f"{events_word(online).capitalize()} en ligne ({percent(share_online)}) "
            f"et {number(attendance['hybrid'])} en format hybride."
        ),
        "located": f"{percent(share_located)} des événements sont rattachés à une région.",
        "dedup": (
            f"{plural(n_listings, 'annonce collectée', 'annonces collectées')}, "
            f"{plural(n_listings - n_events, 'doublon fusionné', 'doublons fusionnés')}, "
            f"{plural(len(rejects), 'ligne écartée', 'lignes écartées')}."
        ),
    }
    return {
        "schema_version": TOTALS_SCHEMA_VERSION,
        "data_as_of": data_as_of.tz_convert("UTC").isoformat(),
        "data_as_of_fr": data_time(data_as_of),
        "events": n_events,
        "listings": n_listings,
        "rejects": len(rejects),
        "duplicates_merged": n_listings - n_events,
        "dedup_ratio": round(n_listings / n_events, 4) if n_events else None,
        "attendance": attendance,
        "online_share": round(share_online, 4),
        "located_in_region": located,
        "located_share": round(share_located, 4),
        "regions": regions,
        "top_departements": top_deps,
        "headline": typography(headline),
        "sentences": {key: typography(text) for key, text in sentences.items()},
    }


def edition_summary(by_edition: pd.DataFrame, run_at: pd.Timestamp) -> dict[str, Any]:
    """The current edition (the run's year, Paris time) against the previous one, nationally and per region.

    Returns a dict with ``edition`` (year, events, previous_events, change, change_share, regions:
    code, name, events, previous_events, change) and the French ``sentence``.
    """
    year = int(run_at.tz_convert("Europe/Paris").year)
    rows = by_edition[by_edition["edition"] == year]
    before = by_edition[by_edition["edition"] == year - 1]
    events = int(rows["events"].sum())
    previous = int(before["events"].sum()) if len(before) else None
    change = events - previous if previous is not None else None
    share = change / previous if change is not None and previous else None
    if previous is None:
        sentence = f"Édition {year} : {events_word(events)} ; pas d'édition {year - 1} suivie pour comparer."
    else:
        trend = f", {'+' if change and change > 0 else ''}{percent(share)}" if share is not None else ""
        sentence = f"Édition {year} : {events_word(events)}, contre {number(previous)} en {year - 1}{trend}."
    regions = [
        {
            "code": str(r["region_code"]),
            "name": str(r["region_name"]),
            "events": int(r["events"]),
            "previous_events": None if pd.isna(r["previous_events"]) else int(r["previous_events"]),
            "change": None if pd.isna(r["change"]) else int(r["change"]),
        }
        for r in rows.to_dict("records")
        if isinstance(r["region_code"], str)
    ]
    return {
        "edition": {
            "year": year,
            "events": events,
            "previous_events": previous,
            "change": change,
            "change_share": round(share, 4) if share is not None else None,
            "regions": regions,
        },
        "sentence": typography(sentence),
    }


def render_markdown(totals: dict[str, Any]) -> str:
    """``totals.md``: the totals as French sentences ready to quote."""
    lines = [
        "# Mois de l'innovation publique : les chiffres",
        "",
        f"_Données au {totals['data_as_of_fr']}._",
        "",
        f"**{totals['sentences']['total']}**",
        "",
        f"- {totals['sentences']['online']}",
        f"- {totals['sentences']['located']}",
        f"- {totals['sentences']['dedup']}",
        *([f"- {totals['sentences']['edition']}"] if "edition" in totals["sentences"] else []),
        "",
        "## Par région",
        "",
    ]
    ranked = sorted(totals["regions"], key=lambda r: (-r["events"], r["name"]))
    lines += [f"- {r['sentence'][0].upper()}{r['sentence'][1:]}." for r in ranked]
    if totals["top_departements"]:
        lines += ["", "## Départements les plus actifs", ""]
        lines += [f"- {d['name']} ({d['code']}) : {events_word(d['events'])}" for d in totals["top_departements"]]
    lines += ["", "---", "", f"En une ligne : {totals['headline']}", ""]
    return "\n".join(typography(line) for line in lines)
