"""``report.html``: one self-contained French page with the totals, maps and charts (embedded PNG)."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: charts are rendered to bytes

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.dates import DateFormatter
from matplotlib.ticker import MaxNLocator

from aggregator import reference
from aggregator.feeds import slug
from aggregator.french import typography
from aggregator.labels import MODE_LABELS, TYPE_LABELS
from aggregator.normalise.dates import local_times
from aggregator.totals import french_date, french_time
from aggregator.totals import number as fr_int

CREDIT = (
    "Source : agrégation des agendas publics du Mois de l'innovation publique (aggregator) ; "
    "géographie : Insee (COG 2025), La Poste ; fond de carte : IGN Admin Express, Licence Ouverte."
)
BLUE = "#000091"  # the French State's blue
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


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(fig: Any, alt: str, caption: str) -> str:
    return _image(_png(fig), alt, caption)


def _image(png_base64: str, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="data:image/png;base64,{png_base64}" alt="{escape(typography(alt))}">'
        f"<figcaption>{escape(typography(caption))}</figcaption></figure>"
    )


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


def ranked_regions(by_region: pd.DataFrame) -> pd.DataFrame:
    """The regions most events first, then by name: the order of the chart, the table and ``totals.md``."""
    return by_region.sort_values(["events", "region_name"], ascending=[False, True], kind="stable")


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
    maps: Mapping[str, Mapping[str, bytes]] | None = None,
    people_files: bool = True,
) -> str:
    """The whole page: no external asset, no script; every text from sources is escaped.

    Args:
        totals: ``totals.json`` content (``totals.build_totals``).
        tables: The statistics tables by name (``stats.all_tables``).
        events: The published events (removed ones left out).
        maps: The rendered maps (``maps.maps``): shown first, PNG embedded.
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
    figures = []
    if maps:
        alt_regions = "Carte des événements par région : " + " ; ".join(
            f"{typography(str(r['name']))} {fr_int(int(r['events']))}" for r in totals.get("regions", [])
        )
        figures.append(_image(_b64(maps["regions"]["png"]), alt_regions,
                              "Régions, outre-mer en encadrés. Fond de carte IGN Admin Express."))  # fmt: skip
        figures.append(_image(_b64(maps["departements"]["png"]), "Carte des événements par département",
                              "Départements, outre-mer en encadrés. Fond de carte IGN Admin Express."))  # fmt: skip
    title = typography("Mois de l'innovation publique : les événements")
    head = f"Mois de l'innovation publique : {fr_int(int(totals.get('events', 0)))} événements"
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class=asof>{escape(typography('Données au ' + str(totals.get('data_as_of_fr', ''))))}</p>",
        "<div class=kpis>" + "".join(f"<div class=kpi><b>{escape(v)}</b>{escape(k)}</div>" for v, k in kpis) + "</div>",
        "<ul>" + "".join(f"<li>{escape(str(s))}</li>" for s in sentences.values()) + "</ul>",
        *figures,
        region_chart(tables["by_region"]),
        day_chart(tables["by_day"]),
        type_chart(tables["by_event_type"]),
        mode_chart(tables["by_attendance_mode"]),
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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
