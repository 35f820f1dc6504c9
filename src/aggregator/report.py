"""``report.html``: one self-contained French page with the totals, maps and charts (embedded PNG)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

import pandas as pd

from aggregator import reference
from aggregator.feeds import slug
from aggregator.figures import Figures, figure_html, ranked_regions
from aggregator.french import typography
from aggregator.labels import MODE_LABELS
from aggregator.normalise.dates import local_times
from aggregator.totals import french_time
from aggregator.totals import number as fr_int

CREDIT = (
    "Source : agrégation des agendas publics du Mois de l'innovation publique (aggregator) ; "
    "géographie : Insee (COG 2025), La Poste ; fond de carte : IGN Admin Express, Licence Ouverte."
)
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:980px;padding:1.5rem;
color:#161616;line-height:1.45}
h1{color:#000091;margin-bottom:.2rem}.asof{color:#666;margin-top:0}
.kpis{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}.kpi{border-left:4px solid #000091;padding:.4rem .8rem;
background:#f5f5fe}.kpi b{display:block;font-size:1.6rem}
figure{margin:1.5rem 0}figure img{max-width:100%;height:auto}figcaption{color:#444;font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #ddd;padding:.3rem .4rem;
text-align:left}td.n,th.n{text-align:right}.credit{color:#444;font-size:.85rem;border-top:1px solid #ddd;
padding-top:.5rem}
"""


def upcoming(events: pd.DataFrame, data_as_of: pd.Timestamp, limit: int = 30) -> pd.DataFrame:
    """The next ``limit`` events from the data's date on: those not yet over (running ones included)."""
    ends = events["end_at"].fillna(events["start_at"]) if len(events) else events["start_at"]
    keep = (ends >= data_as_of) & (events["status"] != "cancelled")
    starts = events["start_at"][keep]
    if len(starts) > limit and starts.notna().all():
        # Only the rows up to the limit-th start (ties included) can come first: a million events
        # are not sorted by title for thirty lines. Kept in their order, so the stable sort agrees;
        # the rows are taken once, with both conditions (each copy of a million events costs).
        keep &= events["start_at"] <= starts.nsmallest(limit).iloc[-1]
    ahead = events[keep]
    return ahead.sort_values(["start_at", "title"], kind="stable").head(limit).reset_index(drop=True)


def _upcoming_table(events: pd.DataFrame, data_as_of: pd.Timestamp, limit: int = 30) -> str:
    rows = upcoming(events, data_as_of, limit)
    if rows.empty:
        return f"<p>{escape(typography('Aucun événement à venir à la date des données.'))}</p>"
    local = local_times(rows["start_at"], rows["timezone"])
    when = [french_time(t.to_pydatetime(), bool(d)) for t, d in zip(local, rows["all_day"], strict=True)]
    place = rows["city"].fillna(rows["region_name"]).fillna("")
    lines = []
    for day, title, url, where, mode in zip(
        when, rows["title"].tolist(), rows["url"].tolist(), place.tolist(), rows["attendance_mode"].tolist(),
        strict=True,
    ):  # fmt: skip
        text = escape(str(title))
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            text = f'<a href="{escape(url)}" rel="noopener noreferrer">{text}</a>'
        lines.append(
            f"<tr><td>{escape(day)}</td><td>{text}</td><td>{escape(str(where))}</td>"
            f"<td>{escape(MODE_LABELS.get(str(mode), str(mode)))}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Date</th><th>Événement</th><th>Lieu</th><th>Format</th></tr></thead>"
        f"<tbody>{''.join(lines)}</tbody></table>"
    )


# The files of a run's folder people may want, in the order of the list in the report.
FILES = (
    ("events.xlsx", "tableur des événements et des statistiques (Excel, LibreOffice)"),
    ("events.csv", "événements en CSV pour tableur (séparateur « ; », UTF-8)"),
    ("calendars/france.ics", "agenda de tous les événements, à ajouter à une application d'agenda"),
    ("events.geojson", "carte des événements (QGIS, uMap)"),
    ("events.jsonld", "événements au format schema.org"),
    ("events.parquet", "table des événements pour l'analyse (pandas, DuckDB, Polars)"),
    ("stats/by_region.csv", "statistiques par région (les autres tables : stats/, en CSV et Parquet)"),
    ("maps/regions.png", "carte par région pour les présentations (aussi en SVG : maps/regions.svg)"),
    ("maps/departements.png", "carte par département (aussi en SVG : maps/departements.svg)"),
    ("totals.md", "chiffres à citer"),
    ("datapackage.json", "description des fichiers (Data Package, Table Schema)"),
)


def _method(totals: Mapping[str, Any]) -> str:
    sources = int(totals.get("sources", 0))
    text = (
        f"Méthode : sont comptés les événements que publient les {fr_int(sources)} sources suivies "
        "(agendas, pages, flux et portails de données), relevées chaque nuit, données au "
        f"{totals.get('data_as_of_fr', '')}. Une même manifestation annoncée par plusieurs sources, ou plusieurs "
        f"fois par une seule, est comptée une fois : {fr_int(int(totals.get('listings', 0)))} annonces ont donné "
        f"{fr_int(int(totals.get('events', 0)))} événements. Un événement qu'aucune source ne publie plus n'est plus "
        "compté. Les lieux sont rattachés aux communes, départements et régions du Code officiel géographique "
        "2025 de l'Insee ; les événements sans lieu connu ne comptent dans aucune région."
    )
    return f"<p>{escape(typography(text))}</p>"


PEOPLE_FILES = ("events.xlsx", "calendars/france.ics", "events.geojson", "events.jsonld")


def _links(people_files: bool) -> str:
    items = [
        f'<li><a href="{escape(path)}">{escape(path)}</a> : {escape(typography(what))}</li>'
        for path, what in FILES
        if people_files or path not in PEOPLE_FILES
    ]
    if not people_files:
        return f"<ul>{''.join(items)}</ul>"
    regions = ", ".join(
        f'<a href="calendars/{slug(str(name))}.ics">{escape(typography(str(name)))}</a>'
        for name in sorted(reference.regions()["region_name"])
    )
    items.insert(3, f"<li>{escape(typography('Un agenda par région :'))} {regions}</li>")
    return f"<ul>{''.join(items)}</ul>"


def render_report(
    totals: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    events: pd.DataFrame,
    figures: Figures,
    people_files: bool = True,
) -> str:
    """The whole page: no external asset, no script; every text from sources is escaped.

    Args:
        totals: ``totals.json`` content (``totals.build_totals``).
        tables: The statistics tables by name (``stats.all_tables``).
        events: The published events (removed ones left out).
        figures: The drawn maps and charts (``charts.draw``): maps first, PNG embedded.
        people_files: Whether the spreadsheet, calendars, GeoJSON and JSON-LD are published (linked).
    """
    data_as_of = pd.Timestamp(str(totals.get("data_as_of")))
    sentences = totals.get("sentences", {})
    by_name = {str(r["code"]): r for r in totals.get("regions", [])}
    regions = "".join(
        f"<tr><td>{escape(typography(str(by_name[code]['name'])))}</td>"
        f"<td class=n>{escape(fr_int(int(by_name[code]['events'])))}</td>"
        f"<td class=n>{escape(fr_int(int(by_name[code]['online'])))}</td></tr>"
        for code in ranked_regions(tables["by_region"])["region_code"].astype(str)
        if code in by_name
    )
    kpis = [
        (fr_int(int(totals.get("events", 0))), "événements"),
        (fr_int(int(totals.get("listings", 0))), "annonces collectées"),
        (fr_int(int(totals.get("attendance", {}).get("online", 0))), "en ligne"),
    ]
    alt_regions = "Carte des événements par région : " + " ; ".join(
        f"{typography(str(r['name']))} {fr_int(int(r['events']))}" for r in totals.get("regions", [])
    )
    maps = [
        figure_html(figures.maps["regions"]["png"], alt_regions,
                    "Régions, outre-mer en encadrés. Fond de carte IGN Admin Express."),
        figure_html(figures.maps["departements"]["png"], "Carte des événements par département",
                    "Départements, outre-mer en encadrés. Fond de carte IGN Admin Express."),
    ]  # fmt: skip
    title = typography("Mois de l'innovation publique : les événements")
    head = f"Mois de l'innovation publique : {fr_int(int(totals.get('events', 0)))} événements"
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class=asof>{escape(typography('Données au ' + str(totals.get('data_as_of_fr', ''))))}</p>",
        "<div class=kpis>" + "".join(f"<div class=kpi><b>{escape(v)}</b>{escape(k)}</div>" for v, k in kpis) + "</div>",
        "<ul>" + "".join(f"<li>{escape(str(s))}</li>" for s in sentences.values()) + "</ul>",
        *maps,
        *figures.charts,
        "<h2>Par région</h2><table><thead><tr><th>Région</th><th class=n>Événements</th><th class=n>dont en ligne</th>"
        "</tr></thead>"
        f"<tbody>{regions}</tbody></table>",
        f"<h2>{escape(typography('Prochains événements'))}</h2>",
        _upcoming_table(events, data_as_of),
        "<h2>Les données</h2>",
        _links(people_files),
        "<h2>Méthode</h2>",
        _method(totals),
        f"<p class=credit>{escape(typography(CREDIT))}</p>",
    ]
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No script may run and nothing may load from elsewhere, whatever a source wrote.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">"
        f"<title>{escape(typography(head))}</title>"
        f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>"
    )
