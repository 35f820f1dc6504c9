"""A run's outputs: what it publishes, and writing them into the run's own folder."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from aggregator.datapackage import package
from aggregator.drawing import figures_of
from aggregator.feeds import calendars, dumps, geojson, jsonld
from aggregator.figures import Figures
from aggregator.gc_policy import fewer_collections
from aggregator.health import SourceHealth
from aggregator.history import active
from aggregator.publish import (
    BackgroundWrites,
    remove_leftovers,
    write_bytes,
    write_csv,
    write_json,
    write_table,
    write_text,
)
from aggregator.report import render_report
from aggregator.schema import CHANGES, EVENTS, LISTINGS, MATCHES, REJECTS, SOURCE_HEALTH
from aggregator.spreadsheets import events_for_people, french_headers, french_values, workbook
from aggregator.state import health_path, publish_source_state
from aggregator.stats_schema import STATS_TABLES
from aggregator.totals import render_markdown


@dataclass
class Outputs:
    """Everything a run publishes, before it is written."""

    listings: pd.DataFrame
    events: pd.DataFrame
    rejects: pd.DataFrame
    matches: pd.DataFrame
    stats: dict[str, pd.DataFrame]
    totals: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    health: dict[str, SourceHealth] = field(default_factory=dict)
    health_rows: pd.DataFrame | None = None  # the whole source health history, this run's rows last
    people_files: bool = True  # events.xlsx, calendars, GeoJSON, JSON-LD (``run.people_files_max_events``)
    changes: pd.DataFrame | None = None  # the whole change history, this run's rows last
    # The maps and charts, being drawn elsewhere while the tables are written (``drawing.draw_elsewhere``);
    # None: ``write_outputs`` draws them.
    figures: Future[Figures] | None = None


@fewer_collections()
def write_outputs(outputs: Outputs, out_dir: Path, folder: Path | None = None) -> dict[str, str]:
    """Write every output into the run's ``folder`` (a new folder under ``out_dir/runs``).

    Nothing is visible to readers until ``promote`` switches ``latest`` to the folder. Histories
    (changes, source health) are written whole, as ``build_outputs`` made them; the sources' cursors are copied
    into the folder's ``state/``, so that everything the next run needs is published with the
    data. Returns output name -> path.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out_dir)
    state_root = out_dir
    out_dir = folder if folder is not None else out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    with BackgroundWrites() as background:  # Parquet written while the next table is validated
        for table, frame in (
            (EVENTS, outputs.events),
            (LISTINGS, outputs.listings),
            (REJECTS, outputs.rejects),
            (MATCHES, outputs.matches),
        ):
            path = out_dir / f"{table.name}.parquet"
            write_table(frame, table, path, background=background)
            written[table.name] = str(path)
        for name, frame in outputs.stats.items():
            write_table(frame, STATS_TABLES[name], out_dir / "stats" / f"{name}.parquet", background=background)
            write_csv(french_headers(french_values(frame, name), name), out_dir / "stats" / f"{name}.csv")
        written["stats"] = str(out_dir / "stats")
        live = active(outputs.events)
        written.update(write_public_files(outputs, live, out_dir))
        write_json(outputs.totals, out_dir / "totals.json")
        write_text(render_markdown(outputs.totals), out_dir / "totals.md")
        written["totals"] = str(out_dir / "totals.json")
        written["totals_md"] = str(out_dir / "totals.md")
        for table, rows, path in (
            (SOURCE_HEALTH, outputs.health_rows, health_path(out_dir)),
            (CHANGES, outputs.changes, out_dir / "changes.parquet"),
        ):
            if rows is not None:  # whole histories: earlier runs' rows, then this run's (``build_outputs``)
                write_table(rows, table, path, background=background)
                written[table.name] = str(path)
        write_json(package(str(outputs.totals["data_as_of"]), list(outputs.stats)), out_dir / "datapackage.json")
        written["datapackage"] = str(out_dir / "datapackage.json")
        # Last: the figures were drawn meanwhile, elsewhere (or are drawn now, here).
        figures = figures_of(outputs.figures, outputs.stats)
        for level, images in figures.maps.items():
            for fmt, data in images.items():
                write_bytes(data, out_dir / "maps" / f"{level}.{fmt}")
        written["maps"] = str(out_dir / "maps")
        report = render_report(outputs.totals, outputs.stats, live, figures, outputs.people_files)
        write_text(report, out_dir / "report.html")
        written["report"] = str(out_dir / "report.html")
    # What sources need next run travels with the data (last good listings are the listings).
    if publish_source_state(state_root, out_dir):
        written["state"] = str(out_dir / "state")
    return written


def write_public_files(outputs: Outputs, live: pd.DataFrame, out_dir: Path) -> dict[str, str]:
    """The files for people and other tools: spreadsheets, calendars, GeoJSON and JSON-LD.

    Only the events still listed somewhere (``live``: not ``removed_at``) are in them, as in the statistics.
    """
    stamp = pd.Timestamp(outputs.totals["data_as_of"])
    written = {"events_csv": str(out_dir / "events.csv")}
    write_csv(french_headers(events_for_people(live), "events"), out_dir / "events.csv")
    if outputs.people_files:
        write_bytes(workbook(live, outputs.stats), out_dir / "events.xlsx")
        for name, data in calendars(live, stamp).items():
            write_bytes(data, out_dir / "calendars" / name)
        write_text(dumps(geojson(live)), out_dir / "events.geojson")
        write_text(dumps(jsonld(live)), out_dir / "events.jsonld")
        written.update(
            events_xlsx=str(out_dir / "events.xlsx"),
            calendars=str(out_dir / "calendars"),
            geojson=str(out_dir / "events.geojson"),
            jsonld=str(out_dir / "events.jsonld"),
        )
    return written
