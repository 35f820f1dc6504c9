"""Text fields cut to their maximum length: a note on each listing, a warning per source and field."""

from __future__ import annotations

import pandas as pd

from aggregator.normalise.text import MAX_LENGTHS, truncate

CUT_COLUMNS = ["raw_row", "source_id", "field"]


def cap_lengths(frame: pd.DataFrame, raw: dict[str, pd.Series]) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Cut text fields to ``MAX_LENGTHS`` (marked "…"): a note per row, and a row per value cut.

    The note gives the length the source sent (of the value in ``raw``, the field's column before
    it was cleaned), not the length once cleaned. The values cut (``CUT_COLUMNS``) are counted over
    all partitions (``cut_warnings``).
    """
    notes = pd.Series(None, index=frame.index, dtype=object)
    cuts: list[pd.DataFrame] = []
    for name, limit in MAX_LENGTHS.items():
        lengths = frame[name].str.len()
        long = lengths > limit
        if not long.any():
            continue
        frame.loc[long, name] = frame.loc[long, name].map(lambda text, n=limit: truncate(text, n))
        given = raw[name][long].str.len().fillna(lengths[long]).clip(lower=lengths[long])
        note = f"{name} cut from " + given.astype("int64").astype(str) + f" to {limit} characters"
        notes[long] = join_notes(notes[long], note)
        cuts.append(frame.loc[long, ["raw_row", "source_id"]].assign(field=name))
    return frame, notes, pd.concat(cuts, ignore_index=True) if cuts else pd.DataFrame(columns=CUT_COLUMNS)


def cut_warnings(cuts: pd.DataFrame) -> list[str]:
    """A warning per source and field whose values were cut (``cap_lengths``), with their count."""
    counts = cuts.groupby(["source_id", "field"]).size().reset_index(name="count")
    return [
        f"source {source_id}: {count} {name} value(s) longer than {MAX_LENGTHS[name]} characters cut (marked …)"
        for source_id, name, count in counts.itertuples(index=False)
    ]


def join_notes(first: pd.Series, second: pd.Series) -> pd.Series:
    """Two columns of notes joined with "; " where both have one."""
    both = first.notna() & second.notna()
    joined = first.where(first.notna(), second)
    joined[both] = first[both].astype(str) + "; " + second[both].astype(str)
    return joined
