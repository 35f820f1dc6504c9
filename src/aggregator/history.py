"""History across nightly runs: events that disappear are kept (``removed_at``), and every change is logged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from aggregator.frames import arrow_strings, is_in, string_ranks
from aggregator.schema import CHANGES, EVENTS
from aggregator.validation import conform


def carry_removed(events: pd.DataFrame, previous: pd.DataFrame | None, run_at: pd.Timestamp) -> pd.DataFrame:
    """This run's events, plus last run's events that no source lists any more, flagged ``removed_at``.

    An event seen again after its removal comes back with ``removed_at`` null (its row is the new one).
    """
    current = conform(events, EVENTS)
    current["removed_at"] = pd.NaT
    if previous is None or previous.empty:
        return conform(current, EVENTS)
    gone = conform(previous, EVENTS)
    # Arrow's set lookup: pandas' ``isin`` of Arrow strings reads the values as Python objects (5 s at 650,000).
    gone = gone[~is_in(gone["event_id"], current["event_id"])].copy()
    gone["removed_at"] = gone["removed_at"].fillna(run_at)
    for name in ("source_ids", "source_urls"):  # Parquet gives arrays back; the schema wants lists
        gone[name] = [list(v) if v is not None else [] for v in gone[name].tolist()]
    both = pd.concat([current, gone], ignore_index=True) if len(gone) else current
    # By start, then id (stable): numpy's sort of integers and Arrow's of strings, not pandas' of both columns.
    starts = pd.to_datetime(both["start_at"], utc=True).dt.tz_localize(None).to_numpy().view(np.int64)
    starts = np.where(both["start_at"].isna().to_numpy(), np.iinfo(np.int64).max, starts)  # NaT last
    return conform(both.take(np.lexsort((string_ranks(both["event_id"]), starts))), EVENTS)


def active(events: pd.DataFrame) -> pd.DataFrame:
    """The events some source still lists (``removed_at`` null): what statistics and totals count."""
    if "removed_at" not in events.columns:
        return events
    return events[events["removed_at"].isna()].reset_index(drop=True)


def changes(events: pd.DataFrame, previous: pd.DataFrame | None, run_id: str, run_at: pd.Timestamp) -> pd.DataFrame:
    """The changes between last run's events and this run's (both with removed events kept).

    Rows by kind of change, then by event id. Events are found in the other run by Arrow's hash
    lookups on their ids, and rows taken by position (label lookups on 700,000 ids cost seconds).
    """
    now = active(events).reset_index(drop=True)
    before = active(previous).reset_index(drop=True) if previous is not None and len(previous) else now.iloc[0:0]
    removed_before = (
        previous.loc[previous["removed_at"].notna(), "event_id"]
        if previous is not None and "removed_at" in previous.columns
        else now["event_id"].iloc[0:0]
    )
    now_ids, before_ids = arrow_strings(now["event_id"]), arrow_strings(before["event_id"])
    parts: dict[str, pd.DataFrame] = {}

    def part(
        ids: pa.Array, rows: np.ndarray, change: str, title: pd.Series, old: object = None, new: object = None
    ) -> None:
        # Each kind of change sorted by id on its own: sorting all rows by kind and id costs more.
        order = pc.sort_indices(ids.take(rows)).to_numpy()
        values = {"before": old, "after": new}
        parts[change] = pd.DataFrame(
            {
                "event_id": pd.Series(ids.take(rows[order]), dtype="str"),
                "change": change,
                "title": title.take(order).reset_index(drop=True),
                **{k: v if v is None else np.asarray(v, dtype=object)[order] for k, v in values.items()},
            }
        )

    where = pc.index_in(now_ids, value_set=before_ids).fill_null(-1).to_numpy()
    appeared = np.flatnonzero(where < 0)
    back = pc.is_in(now_ids.take(appeared), value_set=arrow_strings(removed_before)).to_numpy(zero_copy_only=False)
    for rows, change in ((appeared[~back], "added"), (appeared[back], "restored")):
        part(now_ids, rows, change, now["title"].take(rows))
    gone = np.flatnonzero(~pc.is_in(before_ids, value_set=now_ids).to_numpy(zero_copy_only=False))
    part(before_ids, gone, "removed", before["title"].take(gone))
    common = np.flatnonzero(where >= 0)
    old, new = before.take(where[common]).reset_index(drop=True), now.take(common).reset_index(drop=True)
    moved = (old["start_at"] != new["start_at"]).to_numpy()
    iso = pd.Timestamp.isoformat
    part(now_ids, common[moved], "rescheduled", new["title"][moved], old["start_at"][moved].map(iso).to_numpy(),
         new["start_at"][moved].map(iso).to_numpy())  # fmt: skip
    renamed = (old["title"] != new["title"]).to_numpy()
    part(now_ids, common[renamed], "retitled", new["title"][renamed], old["title"][renamed].to_numpy(),
         new["title"][renamed].to_numpy())  # fmt: skip
    cancelled = ((new["status"] == "cancelled") & (old["status"] != "cancelled")).to_numpy()
    part(now_ids, common[cancelled], "cancelled", new["title"][cancelled], old["status"][cancelled].to_numpy(),
         new["status"][cancelled].to_numpy())  # fmt: skip
    filled = [parts[change] for change in sorted(parts) if len(parts[change])]  # by kind, then id
    frame = (
        pd.concat(filled, ignore_index=True)
        if filled
        else (pd.DataFrame(columns=["event_id", "change", "title", "before", "after"]))
    )
    frame.insert(0, "run_at", run_at)
    frame.insert(0, "run_id", run_id)
    return conform(frame, CHANGES)
