"""Candidate pairs by blocking, pair scores, decisions by documented rules, guarded clusters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from aggregator.dedupe.settings import DedupeSettings

# Below this title ratio no rule can accept a pair (titles of one event, boilerplate removed, share
# most of their words), so the slower scorers are not run for it.
SCORE_FLOOR = 40.0


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


def candidate_pairs(keyed: pd.DataFrame, settings: DedupeSettings) -> pd.DataFrame:
    """Candidate pairs (row positions) in the same place block, with compatible starts; never all pairs.

    Starts pass ``_time_compatible``: timed listings are joined on 10-minute buckets (the same time
    or a time-zone shift apart), dates alone on their day, so incompatible pairs are never built.

    Blocks: the département; a listing placed only by its region meets every listing of that region;
    online listings meet each other; listings without any place meet each other.
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
    region_only_mask = (dep == "") & (region != "") & (block == "")
    region_only = frame[region_only_mask]
    blocked = frame[frame["block"] >= 0]
    regional = frame[frame["region"] >= 0]
    timed = ~all_day
    groups = [
        (blocked, blocked, "block"),
        (region_only, regional, "region"),
        (regional, region_only, "region"),
    ]
    parts = []

    def add(merged: pd.DataFrame, ordered: bool) -> None:
        left, right = merged["pos_x"].to_numpy(), merged["pos_y"].to_numpy()
        keep = left < right if ordered else left != right
        left, right = left[keep], right[keep]
        ok = _time_compatible(keyed, left, right, settings)
        parts.append(np.column_stack((np.minimum(left[ok], right[ok]), np.maximum(left[ok], right[ok]))))

    for left_frame, right_frame, key in groups:
        left_timed = left_frame[timed[left_frame["pos"].to_numpy()]][["pos", key, "bucket"]]
        right_timed = right_frame[timed[right_frame["pos"].to_numpy()]][["pos", key, "bucket"]]
        for offset in sorted(offsets):
            shifted = right_timed.assign(bucket=right_timed["bucket"] - offset)
            add(left_timed.merge(shifted, on=[key, "bucket"]), ordered=offset == 0)
        left_day = left_frame[all_day[left_frame["pos"].to_numpy()]][["pos", key, "_day"]]
        add(left_day.merge(right_frame[["pos", key, "_day"]], on=[key, "_day"]), ordered=False)
    stacked = np.concatenate(parts) if parts else np.empty((0, 2), dtype="int64")
    pairs = pd.DataFrame(stacked, columns=["left", "right"]).drop_duplicates()
    return pairs.astype("int64").reset_index(drop=True)


RULES = (
    "same_uid", "same_source_exact", "same_source_distinct", "time_differs", "same_url", "title_time",
    "title_time_place", "title_subset_place", "score_too_low",
    "guard_source_twice", "guard_time_spread", "guard_title_drift",
)  # fmt: skip
ACCEPTING = ("same_uid", "same_source_exact", "same_url", "title_time", "title_time_place", "title_subset_place")
DECISIONS = ("accepted", "refused", "rejected")


def score_pairs(keyed: pd.DataFrame, pairs: pd.DataFrame, settings: DedupeSettings) -> pd.DataFrame:
    """Score components and the decision for every candidate pair (vectorised).

    Columns: ``title_score``, ``title_subset_score``, ``venue_score``, ``organizer_score``,
    ``time_delta_min``, ``same_time``, ``timezone_shift``, ``same_day``, ``same_postal``,
    ``same_city``, ``same_url``, ``same_source``, ``same_uid``, ``score``, ``decision``
    (accepted/rejected) and ``rule``. Equalities are tested on integer codes computed once per
    listing (``add_keys``); strings are only handed to rapidfuzz.
    """
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    n = len(pairs)

    def col(name: str) -> tuple[np.ndarray, np.ndarray]:
        values = keyed[name].to_numpy()
        return values[left], values[right]

    def same(name: str) -> np.ndarray:
        a, b = col(name)
        return np.asarray((a >= 0) & (a == b), dtype=bool)

    tl, tr = col("_title")
    title = cpdist(list(tl), list(tr), scorer=fuzz.ratio, workers=-1) if n else np.zeros(0)
    same_url = same("_url_id")
    # The slower scorers only run where titles are close enough for any rule to accept the pair.
    worth = np.flatnonzero((title >= SCORE_FLOOR) | same_url)

    def scored_where(name: str, scorer: Any) -> np.ndarray:
        result = np.full(n, np.nan)
        if len(worth):
            a, b = col(name)
            result[worth] = cpdist(list(a[worth]), list(b[worth]), scorer=scorer, workers=-1)
            empty = (a[worth] == "") | (b[worth] == "")
            result[worth[empty]] = np.nan
        return result

    subset = np.nan_to_num(scored_where("_title", fuzz.token_set_ratio))
    venue = scored_where("_venue", fuzz.token_set_ratio)
    organizer = scored_where("_org", fuzz.token_set_ratio)
    wl, wr = col("_words")
    shorter = np.minimum(wl, wr)

    ml, mr = col("_minute")
    delta = np.abs(ml - mr).astype(float)
    al, ar = col("all_day")
    dl, dr = col("_day")
    sl, sr = col("_source")
    tol = settings.time_tolerance_min
    timed = ~(al.astype(bool) | ar.astype(bool))
    same_source = sl == sr
    shift = np.zeros(n, dtype=bool)
    for hours in settings.timezone_shifts_h:
        shift |= np.abs(delta - 60 * hours) <= tol
    same_time = timed & (delta <= tol)
    timezone_shift = timed & shift & ~same_source
    same_day = dl == dr
    same_postal = same("_postal_id")
    same_city = same("_city_id")
    cl, cr = col("_city_id")
    city_conflict = (cl >= 0) & (cr >= 0) & (cl != cr)
    same_uid = same_source & same("_uid_id")

    time_ok = same_time | timezone_shift | (~timed & same_day)
    venue_ok = np.nan_to_num(venue) >= settings.venue_agree
    # Two different cities contradict each other unless the postal code agrees (a commune and its
    # arrondissement, a delegated commune): a similar venue name ("Médiathèque de ...") does not.
    # Online listings share one nationwide block: "both online" is no evidence of the same event.
    place_conflict = city_conflict & ~same_postal
    place_agrees = (same_postal | same_city | venue_ok) & ~place_conflict
    tcl, tcr = col("_title_id")
    exact = (tcl == tcr) & same_time & ((cl == cr) | ((cl < 0) & (cr < 0)))
    code = np.select(
        [
            same_uid,
            same_source & exact,
            same_source,
            ~time_ok,
            same_url,
            (title >= settings.title_accept) & ~place_conflict,
            (title >= settings.title_with_place) & place_agrees & time_ok,
            (subset >= settings.title_subset) & (shorter >= 2) & place_agrees & time_ok,
        ],
        list(range(8)),
        default=8,
    )
    accepted = np.isin(code, [RULES.index(r) for r in ACCEPTING])
    bonus = 5 * same_url + 3 * same_postal + 2 * same_city + 2 * same_time
    return pd.DataFrame(
        {
            "left": left,
            "right": right,
            "title_score": title,
            "title_subset_score": subset,
            "venue_score": venue,
            "organizer_score": organizer,
            "time_delta_min": delta,
            "same_time": same_time,
            "timezone_shift": timezone_shift,
            "same_day": same_day,
            "same_postal": same_postal,
            "same_city": same_city,
            "same_url": same_url,
            "same_source": same_source,
            "same_uid": same_uid,
            "score": title + bonus,
            "decision": pd.Categorical(np.where(accepted, "accepted", "rejected"), categories=list(DECISIONS)),
            "rule": pd.Categorical(np.asarray(RULES, dtype=object)[code], categories=list(RULES)),
        }
    )


class _Clusters:
    """Union-find whose unions are refused when the merged cluster would chain unrelated events."""

    def __init__(self, keyed: pd.DataFrame, settings: DedupeSettings) -> None:
        n = len(keyed)
        self.parent = list(range(n))
        self.sources: list[set[str]] = [{s} for s in keyed["source_id"]]
        timed = ~keyed["all_day"].to_numpy(dtype=bool)
        minutes = keyed["_minute"].to_numpy()
        self.lo = np.where(timed, minutes, np.iinfo(np.int64).max).tolist()
        self.hi = np.where(timed, minutes, np.iinfo(np.int64).min).tolist()
        self.title = keyed["_title"].tolist()
        self.span = 60 * max(settings.timezone_shifts_h, default=0) + settings.time_tolerance_min
        self.floor = settings.title_cluster_floor

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int, same_source: bool) -> str | None:
        """Merge the clusters of ``a`` and ``b``; returns why it was refused, or None."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        if not same_source and self.sources[ra] & self.sources[rb]:
            return "guard_source_twice"  # one source never lists one event twice
        lo, hi = min(self.lo[ra], self.lo[rb]), max(self.hi[ra], self.hi[rb])
        if hi >= lo and hi - lo > self.span:
            return "guard_time_spread"
        if fuzz.ratio(self.title[ra], self.title[rb]) < self.floor:
            return "guard_title_drift"
        self.parent[rb] = ra
        self.sources[ra] |= self.sources[rb]
        self.lo[ra], self.hi[ra] = lo, hi
        return None


def cluster(keyed: pd.DataFrame, scored: pd.DataFrame, settings: DedupeSettings) -> tuple[np.ndarray, pd.DataFrame]:
    """Cluster labels (a root position per row) from accepted pairs, strongest first.

    Within-source duplicates are merged before pairs across sources. An accepted pair whose union
    the guard refuses is marked ``refused`` with the guard's rule.
    """
    clusters = _Clusters(keyed, settings)
    accepted = scored[scored["decision"] == "accepted"]
    order = accepted.assign(_within=accepted["same_source"]).sort_values(["_within", "score"], ascending=[False, False])
    refused: dict[int, str] = {}
    for index, left, right, same_source in zip(
        order.index, order["left"], order["right"], order["same_source"], strict=True
    ):
        why = clusters.union(int(left), int(right), bool(same_source))
        if why:
            refused[int(index)] = why
    if refused:
        scored = scored.copy()
        idx = list(refused)
        scored.loc[idx, "decision"] = "refused"
        scored.loc[idx, "rule"] = [refused[i] for i in idx]
    labels = np.array([clusters.find(i) for i in range(len(keyed))], dtype="int64")
    return labels, scored
