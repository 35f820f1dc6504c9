"""Tables for people: French headers, local times and French values, and the ``events.xlsx`` workbook."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from aggregator.labels import BOOLEAN_LABELS, VALUE_LABELS, column_label
from aggregator.normalise.dates import local_times
from aggregator.publish import FORMULA_START
from aggregator.schema import EVENTS, Table
from aggregator.stats_schema import STATS_TABLES

# The events people want in a spreadsheet: what, when, where, who, links (ids and merge detail stay in Parquet).
EVENT_COLUMNS = (
    "event_id", "title", "start_at", "end_at", "timezone", "all_day", "event_type", "attendance_mode", "status",
    "venue_name", "street_address", "postal_code", "city", "commune_insee", "departement_code", "departement_name",
    "region_code", "region_name", "latitude", "longitude", "organizer", "url", "registration_url", "online_url",
    "description", "source_ids", "n_sources",
)  # fmt: skip
LOCAL_TIME_COLUMNS = ("start_at", "end_at")  # written as the wall-clock time of the event's place
SHEET_NAMES = {
    "events": "Événements",
    "by_region": "Par région",
    "by_departement": "Par département",
    "by_event_type": "Par type",
    "by_attendance_mode": "Par format",
    "by_day": "Par jour",
    "by_source": "Par source",
    "geo_quality": "Qualité des lieux",
    "by_organizer": "Par organisateur",
    "by_edition": "Par édition",
}


def events_for_people(events: pd.DataFrame) -> pd.DataFrame:
    """The events with ``EVENT_COLUMNS``, local times (naive, in each event's zone), French values.

    Codes stay text; lists are joined with ", "; booleans read "oui"/"non". Column names stay the
    schema's: ``french_headers`` renames them.
    """
    out = events.loc[:, list(EVENT_COLUMNS)].copy()
    for column in LOCAL_TIME_COLUMNS:
        out[column] = local_times(events[column], events["timezone"]) if len(events) else events[column]
    out["all_day"] = events["all_day"].map(BOOLEAN_LABELS)
    out["source_ids"] = [", ".join(ids) for ids in events["source_ids"]]
    return french_values(out, "events")


def french_values(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """``frame`` with its coded values of ``table`` shown in French (``labels.VALUE_LABELS``)."""
    out = frame.copy()
    for (name, column), labels in VALUE_LABELS.items():
        if name == table and column in out.columns:
            # A dict lookup per distinct value (fast), values without a label kept as they are.
            labelled = out[column].map(labels)
            out[column] = labelled.where(labelled.notna(), out[column])
    return out


def french_headers(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """``frame`` with the French headers of ``table``'s columns."""
    return frame.rename(columns={c: column_label(table, c) for c in frame.columns})


def table_of(name: str) -> Table:
    """The schema of a published table people get: ``events`` or a summary table."""
    return EVENTS if name == "events" else STATS_TABLES[name]


def workbook(events: pd.DataFrame, stats: dict[str, pd.DataFrame]) -> bytes:
    """``events.xlsx``: a sheet of events, one per summary table, and a dictionary sheet.

    Headers are in French, with the schema's description as the header cell's note and in the
    "Dictionnaire" sheet; codes are text cells, times real date cells in local time (about 3,000
    events a second: ``run.people_files_max_events`` bounds it).
    """
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    sheets = {"events": events_for_people(events), **{n: french_values(f, n) for n, f in stats.items()}}
    for name, frame in sheets.items():
        _sheet(book, name, frame)
    dictionary = book.create_sheet("Dictionnaire")
    dictionary.append(["Feuille", "Colonne", "Nom technique", "Description"])
    for name, frame in sheets.items():
        table = table_of(name)
        for column in frame.columns:
            description = _description(table, column)
            dictionary.append([SHEET_NAMES[name], column_label(name, column), column, description])
    _header_style(dictionary, [12, 34, 22, 100])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _description(table: Table, column: str) -> str:
    text = table.column(column).description
    if column in LOCAL_TIME_COLUMNS and table is EVENTS:
        text += " Shown here as the local time of the event's place."
    return text


def _sheet(book: Workbook, name: str, frame: pd.DataFrame) -> None:
    sheet = book.create_sheet(SHEET_NAMES[name])
    table = table_of(name)
    sheet.append([column_label(name, c) for c in frame.columns])
    for cell, column in zip(sheet[1], frame.columns, strict=True):
        cell.comment = Comment(_description(table, column), "aggregator")
    text_columns = [i for i, c in enumerate(frame.columns, 1) if frame[c].dtype == object or c.endswith("_code")]
    for row in frame.itertuples(index=False, name=None):
        sheet.append([_cell(v) for v in row])
    for index in text_columns:  # codes such as "01" are text, never numbers
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if cell.data_type == "s":
                cell.number_format = "@"
    for index, column in enumerate(frame.columns, 1):
        if column in LOCAL_TIME_COLUMNS or pd.api.types.is_datetime64_any_dtype(frame[column]):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "dd/mm/yyyy hh:mm"
        elif column == "date":
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "dd/mm/yyyy"
    widths = [min(60, max(10, len(column_label(name, c)) + 2)) for c in frame.columns]
    _header_style(sheet, widths)


def _header_style(sheet: Any, widths: list[int]) -> None:
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def _cell(value: Any) -> Any:
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().replace(tzinfo=None)  # Excel has no time zones: UTC columns say so
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value  # never a formula (OWASP "CSV injection" holds for workbooks too)
    return value
