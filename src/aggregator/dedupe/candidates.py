"""Candidate pairs by blocking: the pairs of listings that deduplication scores, never all pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aggregator.frames import SortedKeys, equal_keys, runs_of_equals
from aggregator.settings import DedupeSettings


def _time_compatible(keyed: pd.DataFrame, left: np.ndarray, right: np.ndarray, settings: DedupeSettings) -> np.ndarray:
    """Whether each pair's starts are compatible; integers only, run before any string comparison.

    Compatible: the same start, a time-zone shift across sources, or a date alone on the same day.
    """
    minutes = keyed["_minute"].to_numpy()
    all_day = keyed["all_day"].to_numpy(dtype=bool)
    days = keyed["_day"].to_numpy()
    sources = keyed["_source"].to_numpy()
    delta = np.abs(minutes[left] - minutes[right])
    tol = settings.time_tolerance_min
    ok = delta <= tol
    shifted = np.zeros(len(left), dtype=bool)
    for hours in settings.timezone_shifts_h:
        shifted |= np.abs(delta - 60 * hours) <= tol
    ok |= shifted & (sources[left] != sources[right])
    ok |= (all_day[left] | all_day[right]) & (days[left] == days[right])
    return np.asarray(ok, dtype=bool)


def candidate_pairs(keyed: pd.DataFrame, settings: DedupeSettings) -> tuple[pd.DataFrame, int]:
    """Candidate pairs (row positions) in the same place block, with compatible starts; never all pairs.

    Starts pass ``_time_compatible``: timed listings are joined on 10-minute buckets (the same time
    or a time-zone shift apart), dates alone on their day, so incompatible pairs are never built.

    Blocks: the département; a listing placed only by its region meets every listing of that region;
    online listings meet each other; listings without any place meet each other. In a block with
    more than ``max_block_listings`` listings on one day, only listings with the same title key meet
    (the number of such groups is returned with the pairs). A second pass, on
    the title key instead of the place, lets listings without a département (and online ones) meet
    every listing with the same title key: a publisher's iCalendar feed with places and its pages
    without are compared. Both passes join on start buckets; the same rules and guards then apply.
    """
    n = len(keyed)
    dep = keyed["departement_code"].fillna("").to_numpy(dtype=object)
    region = keyed["region_code"].fillna("").to_numpy(dtype=object)
    if settings.block_on == "region":
        dep = region.copy()
    block = np.where(dep != "", dep, np.where(keyed["_online"].to_numpy(), "online", ""))
    block = np.where((block == "") & (region == ""), "nowhere", block)
    # Integer keys: merges on codes cost a fraction of merges on strings, in time and memory.
    block_id = pd.factorize(pd.Series(block))[0]
    region_id = pd.factorize(pd.Series(region))[0]
    frame = pd.DataFrame(
        {
            "pos": np.arange(n),
            "block": np.where(block == "", -1, block_id),
            "region": np.where(region == "", -1, region_id),
            "_day": keyed["_day"].to_numpy(),
        }
    )
    # Timed listings meet on 10-minute buckets of their start (the same time, or the time-zone
    # shifts); dates alone meet every listing of their day. Incompatible starts are never joined.
    width = 10
    frame["bucket"] = keyed["_minute"].to_numpy() // width
    all_day = keyed["all_day"].to_numpy(dtype=bool)
    tol_buckets = settings.time_tolerance_min // width + 1
    offsets = set(range(tol_buckets + 1))
    for hours in settings.timezone_shifts_h:
        centre = 60 * hours // width
        offsets |= set(range(centre - tol_buckets, centre + tol_buckets + 1))
    frame["title"] = keyed["_title_id"].to_numpy()
    # A block with more listings on one day than ``max_block_listings`` would give millions of pairs
    # (a venue listing thousands of same-day events): there, only listings with the same title key
    # meet. Elsewhere ``sub`` is 0 for everyone and changes nothing.
    sizes = frame.groupby(["block", "_day"])["pos"].transform("size").to_numpy()
    crowded = (frame["block"].to_numpy() >= 0) & (sizes > settings.max_block_listings)
    frame["sub"] = np.where(crowded, frame["title"].to_numpy() + 1, 0)
    crowded_groups = int(frame.loc[crowded, ["block", "_day"]].drop_duplicates().shape[0])
    # Joins on one integer column (the group and the time packed together) cost a fraction of joins
    # on two or three columns; the packing keeps every shifted bucket inside its group's range.
    shift = max(offsets)
    group = frame["block"].to_numpy() * (n + 1) + frame["sub"].to_numpy()
    for name, pad in (("bucket", shift), ("_day", 0)):
        low = frame[name].min() if n else 0
        span = int(frame[name].max() - low) + 2 * pad + 1 if n else 1
        for key, values in (
            ("block", group),
            ("region", frame["region"].to_numpy()),
            ("title", frame["title"].to_numpy()),
        ):
            if n and int(values.max(initial=0)) + 1 > (2**62) // span:
                raise OverflowError(f"candidate keys do not fit in 64 bits ({span:,} {name} values)")
            frame[f"{key}@{name}"] = values * span + (frame[name].to_numpy() - low + pad)
    region_only_mask = (dep == "") & (region != "") & (block == "")
    titled = frame[frame["title"] >= 0]
    frames = {
        "blocked": frame[frame["block"] >= 0],
        "region_only": frame[region_only_mask],
        "regional": frame[frame["region"] >= 0],
        "titled": titled,
        "placeless": titled[(dep == "")[titled["pos"].to_numpy()]],
    }
    starts = {"timed": ~all_day, "all_day": all_day}
    groups = [
        ("blocked", "blocked", "block"),
        ("region_only", "regional", "region"),
        ("regional", "region_only", "region"),
        ("placeless", "titled", "title"),
        ("titled", "placeless", "title"),
    ]
    parts: list[np.ndarray] = []
    by_title: list[np.ndarray] = []

    def add(left: np.ndarray, right: np.ndarray, ordered: bool, into: list[np.ndarray]) -> None:
        keep = left < right if ordered else left != right
        left, right = left[keep], right[keep]
        ok = _time_compatible(keyed, left, right, settings)
        into.append(np.column_stack((np.minimum(left[ok], right[ok]), np.maximum(left[ok], right[ok]))))

    # Each side is sorted once: the region and title passes meet both ways round.
    sides: dict[tuple[str, str, str], tuple[np.ndarray, SortedKeys]] = {}

    def side(name: str, start: str, key: str) -> tuple[np.ndarray, SortedKeys]:
        if (name, start, key) not in sides:
            selection = frames[name]
            chosen = selection if start == "any" else selection[starts[start][selection["pos"].to_numpy()]]
            sides[(name, start, key)] = chosen["pos"].to_numpy(), SortedKeys(chosen[key].to_numpy())
        return sides[(name, start, key)]

    # Joins on the packed keys, each side sorted once for all its offsets (``equal_keys``: the
    # pairs in the order the merges that did this before gave, so equal scores keep their order).
    for left_name, right_name, key in groups:
        if frames[left_name].empty or frames[right_name].empty:
            continue  # no pair (most workloads have no listing placed by its region alone)
        into = by_title if key == "title" else parts
        timed_key, day_key = f"{key}@bucket", f"{key}@_day"
        left_pos, left_keys = side(left_name, "timed", timed_key)
        right_pos, right_keys = side(right_name, "timed", timed_key)
        for offset in sorted(offsets):
            i, j = equal_keys(left_keys, right_keys, offset)
            add(left_pos[i], right_pos[j], ordered=offset == 0, into=into)
        left_pos, left_keys = side(left_name, "all_day", day_key)
        right_pos, right_keys = side(right_name, "any", day_key)
        i, j = equal_keys(left_keys, right_keys)
        add(left_pos[i], right_pos[j], ordered=False, into=into)
    if by_title:
        mode = keyed["attendance_mode"].fillna("unknown").to_numpy(dtype=object)
        parts.append(_unambiguous(np.concatenate(by_title), dep, region, mode))
    stacked = np.concatenate(parts).astype("int64") if parts else np.empty((0, 2), dtype="int64")
    # Each pair once, where it first appears (the order of the pairs orders equal scores later).
    order, first = runs_of_equals(stacked[:, 0] * max(n, 1) + stacked[:, 1])
    pairs = pd.DataFrame(stacked[np.sort(order[first])], columns=["left", "right"])
    return pairs, crowded_groups


def _unambiguous(pairs: np.ndarray, dep: np.ndarray, region: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """The pairs of the title pass that nothing contradicts.

    A listing without a département is not paired with a listing of another region than its own,
    nor an online listing with a placed one (an organiser's address is no evidence either way: the
    title alone would merge every same-titled session of a national programme), nor, when it meets
    listings of several départements (one title, one time, several places), with any of them.
    """
    a, b = pairs[:, 0], pairs[:, 1]
    unplaced = np.where(dep[a] == "", a, b)
    other = np.where(dep[a] == "", b, a)
    placed = dep[other] != ""
    modes = placed & (mode[unplaced] == "online")
    contradicts = (placed & (region[unplaced] != "") & (region[other] != region[unplaced])) | modes
    seen = pd.DataFrame({"unplaced": unplaced[placed & ~contradicts], "dep": dep[other][placed & ~contradicts]})
    spread = seen.groupby("unplaced")["dep"].nunique()
    ambiguous = np.isin(unplaced, spread[spread > 1].index.to_numpy()) & placed
    return np.asarray(pairs[~(contradicts | ambiguous)])
