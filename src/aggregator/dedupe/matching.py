"""Pair scores, decisions by documented rules, guarded clusters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from aggregator.frames import runs_of_equals
from aggregator.normalise.text import fold_strings
from aggregator.settings import DedupeSettings

# Below this title ratio no rule can accept a pair (titles of one event, boilerplate removed, share
# most of their words), so the slower scorers are not run for it.
SCORE_FLOOR = 40.0


def distinct_pair_scores(
    values: pd.Series,
    left: np.ndarray,
    right: np.ndarray,
    scorer: Any,
    folded: bool = False,
    score_cutoff: float | None = None,
) -> np.ndarray:
    """``scorer`` on the strings of each (left, right) row pair, called once per distinct pair of strings.

    Listings repeat their titles, venues and organisers, so millions of candidate pairs hold far
    fewer distinct string pairs: they are found on integer codes and scored in one batched
    ``cpdist`` call. ``folded``: the strings compared are the ``fold`` of each distinct value of
    the rows in the pairs (by Arrow, ``fold_strings``), computed for those rows only. A pair where
    either string is empty scores NaN (nothing to compare). Scores below ``score_cutoff`` come back
    as 0 (rapidfuzz stops early on them).
    """
    if not len(left):
        return np.zeros(0)
    # The rows in pairs, sorted, with their rank among them (a mask: np.unique sorts, far slower).
    involved = np.zeros(len(values), dtype=bool)
    involved[left] = involved[right] = True
    rows = np.flatnonzero(involved)
    local = np.cumsum(involved) - 1
    codes, uniques = pd.factorize(values.iloc[rows], use_na_sentinel=True)
    plain = np.asarray(uniques, dtype=object).tolist()
    if folded:  # ``fold`` of each distinct value at C speed (a text that is not a string folds to "")
        plain = fold_strings(
            pa.array([v if isinstance(v, str) else None for v in plain], pa.large_string())
        ).to_pylist()
    strings = np.array([*plain, ""], dtype=object)
    empty = np.array([not text for text in strings.tolist()], dtype=bool)
    codes = np.where(codes < 0, len(strings) - 1, codes).astype(np.int64)
    width = np.int64(len(strings))
    pair_codes, distinct = _distinct(codes[local[left]] * width + codes[local[right]])
    lc, rc = distinct // width, distinct % width
    scores = np.asarray(
        cpdist(strings[lc].tolist(), strings[rc].tolist(), scorer=scorer, workers=-1, score_cutoff=score_cutoff),
        dtype=float,
    )
    scores[empty[lc] | empty[rc]] = np.nan
    return np.asarray(scores[pair_codes], dtype=float)


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per value, its position among the distinct values; and the distinct values, sorted."""
    order, first = runs_of_equals(values)
    positions = np.empty(len(values), dtype=np.int64)
    positions[order] = np.cumsum(first) - 1
    return positions, values[order][first]


RULES = (
    "same_uid", "same_source_exact", "same_source_distinct", "time_differs", "same_url", "title_time",
    "title_time_place", "title_subset_place", "score_too_low",
    "guard_source_twice", "guard_time_spread", "guard_title_drift",
)  # fmt: skip
ACCEPTING = ("same_uid", "same_source_exact", "same_url", "title_time", "title_time_place", "title_subset_place")
DECISIONS = ("accepted", "refused", "rejected")


def score_pairs(keyed: pd.DataFrame, pairs: pd.DataFrame, settings: DedupeSettings) -> pd.DataFrame:
    """Score components and the decision for the candidate pairs (vectorised), indexed as ``pairs``.

    Every pair but those settled by their codes and shown nowhere: two listings of one source with
    distinct uids and title keys (refused by rule ``same_source_distinct``) whose title score is
    under ``title_near_miss``. Columns: ``title_score``, ``title_subset_score``, ``venue_score``, ``organizer_score``,
    ``time_delta_min``, ``same_time``, ``timezone_shift``, ``same_day``, ``same_postal``,
    ``same_city``, ``same_url``, ``same_source``, ``same_uid``, ``score``, ``decision``
    (accepted/rejected) and ``rule``. Equalities are tested on integer codes computed once per
    listing (``add_keys``); strings are only handed to rapidfuzz.
    """
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    n = len(pairs)
    columns: dict[str, np.ndarray] = {}

    def col(name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in columns:  # string columns cost a conversion each time they are read
            columns[name] = keyed[name].to_numpy()
        values = columns[name]
        return values[left], values[right]

    def same(name: str) -> np.ndarray:
        a, b = col(name)
        return np.asarray((a >= 0) & (a == b), dtype=bool)

    sl, sr = col("_source")
    same_source = sl == sr
    tcl, tcr = col("_title_id")
    # Two listings of one source with distinct uids and distinct title keys are refused whatever
    # their scores (rule same_source_distinct: a publisher lists an event once). Their title ratio
    # only says whether the matches table shows them as near misses: rapidfuzz may stop below that.
    # (A regional export of exhibitions open every day gives millions of such pairs.)
    settled = same_source & ~same("_uid_id") & (tcl != tcr)
    title = np.zeros(n)
    for rows, cutoff in ((~settled, None), (settled, settings.title_near_miss)):
        title[rows] = distinct_pair_scores(keyed["_title"], left[rows], right[rows], fuzz.ratio, score_cutoff=cutoff)
    # Two titles with nothing left once boilerplate is removed are no evidence either way.
    title = np.nan_to_num(title)
    # Settled pairs below the near-miss line are shown nowhere (neither merged nor near misses):
    # they are left out here, before the other columns are computed for them.
    shown = np.flatnonzero(~settled | (title >= settings.title_near_miss))
    left, right, title, same_source = left[shown], right[shown], title[shown], same_source[shown]
    tcl, tcr = tcl[shown], tcr[shown]
    n = len(shown)
    same_url = same("_url_id")
    # The slower scorers only run where titles are close enough for any rule to accept the pair.
    worth = np.flatnonzero((title >= SCORE_FLOOR) | same_url)

    def scored_where(name: str, scorer: Any, folded: bool = False) -> np.ndarray:
        result = np.full(n, np.nan)
        result[worth] = distinct_pair_scores(keyed[name], left[worth], right[worth], scorer, folded)
        return result

    subset = np.nan_to_num(scored_where("_title", fuzz.token_set_ratio))
    # Venues and organisers are folded here, for the listings of pairs worth scoring only.
    venue = scored_where("venue_name", fuzz.token_set_ratio, folded=True)
    organizer = scored_where("organizer", fuzz.token_set_ratio, folded=True)
    wl, wr = col("_words")
    shorter = np.minimum(wl, wr)

    ml, mr = col("_minute")
    delta = np.abs(ml - mr).astype(float)
    al, ar = col("all_day")
    dl, dr = col("_day")
    tol = settings.time_tolerance_min
    timed = ~(al.astype(bool) | ar.astype(bool))
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
    # Records their own publisher keeps apart (distinct uids, and distinct URLs, venues or postal
    # codes) are distinct events whatever their titles; an exact repeat needs the same place.
    ul, ur = col("_uid_id")
    ol, orr = col("_url_id")
    pl, pr = col("_postal_id")
    venue_differs = ~np.isnan(venue) & (np.nan_to_num(venue) < settings.venue_agree)
    kept_apart = ((ul >= 0) & (ur >= 0) & (ul != ur)) & (
        ((ol >= 0) & (orr >= 0) & (ol != orr)) | ((pl >= 0) & (pr >= 0) & (pl != pr)) | venue_differs
    )
    same_place = ((cl == cr) | ((cl < 0) & (cr < 0))) & ((pl == pr) | (pl < 0) | (pr < 0)) & ~venue_differs
    exact = (tcl == tcr) & same_time & same_place & ~kept_apart
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
    accepted = np.array([rule in ACCEPTING for rule in RULES])[code]  # a lookup: np.isin sorts millions
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
            # From codes: building categoricals from millions of strings costs seconds.
            "decision": pd.Categorical.from_codes(np.where(accepted, 0, 2), dtype=pd.CategoricalDtype(list(DECISIONS))),
            "rule": pd.Categorical.from_codes(code, dtype=pd.CategoricalDtype(list(RULES))),
        },
        index=pairs.index[shown],
    )


def _title_ratio(a: str, b: str) -> float:
    """Title similarity for the guard; empty keys (nothing left of the title) are no evidence."""
    return float(fuzz.ratio(a, b)) if a and b else 0.0


class _Clusters:
    """Union-find whose unions are refused when the merged cluster would chain unrelated events.

    Works on local positions ``0..len(members)-1`` of the listings it is given.
    """

    def __init__(self, keyed: pd.DataFrame, members: np.ndarray, settings: DedupeSettings) -> None:
        self.parent = list(range(len(members)))
        self.sources: list[set[str]] = [{s} for s in keyed["source_id"].to_numpy()[members]]
        timed = ~keyed["all_day"].to_numpy(dtype=bool)[members]
        minutes = keyed["_minute"].to_numpy()[members]
        self.lo = np.where(timed, minutes, np.iinfo(np.int64).max).tolist()
        self.hi = np.where(timed, minutes, np.iinfo(np.int64).min).tolist()
        self.title = keyed["_title"].to_numpy()[members].tolist()
        self.span = _guard_span(settings)
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
        if _title_ratio(self.title[ra], self.title[rb]) < self.floor:
            return "guard_title_drift"
        self.parent[rb] = ra
        self.sources[ra] |= self.sources[rb]
        self.lo[ra], self.hi[ra] = lo, hi
        return None


def _guard_span(settings: DedupeSettings) -> int:
    """Widest start-time spread (minutes) a cluster may have: the largest time-zone shift plus tolerance."""
    return 60 * max(settings.timezone_shifts_h, default=0) + settings.time_tolerance_min


def cluster(keyed: pd.DataFrame, scored: pd.DataFrame, settings: DedupeSettings) -> tuple[np.ndarray, pd.DataFrame]:
    """Cluster labels (a representative position per row) from accepted pairs, strongest first.

    Within-source duplicates are merged before pairs across sources. An accepted pair whose union
    the guard refuses is marked ``refused`` with the guard's rule.

    Connected components are found first (scipy): a component of two listings has one pair, whose
    guard is checked on arrays; only the larger components, where the order of unions matters, go
    through the guarded union-find, pair by pair, in the documented order.
    """
    n = len(keyed)
    labels = np.arange(n, dtype="int64")
    accepted = scored[scored["decision"] == "accepted"]
    if accepted.empty:
        return labels, scored
    left, right = accepted["left"].to_numpy(), accepted["right"].to_numpy()
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    size = np.bincount(component)
    small = size[component[left]] == 2
    refused: dict[int, str] = {}

    # Components of two: the guard on the one union, vectorised (two singletons never share a source
    # across sources; time spread only between two timed starts; title drift on the pair's own score).
    timed = ~keyed["all_day"].to_numpy(dtype=bool)
    minutes = keyed["_minute"].to_numpy()
    sl, sr = left[small], right[small]
    spread = timed[sl] & timed[sr] & (np.abs(minutes[sl] - minutes[sr]) > _guard_span(settings))
    drift = accepted["title_score"].to_numpy()[small] < settings.title_cluster_floor
    index = accepted.index.to_numpy()[small]
    for rule, mask in (("guard_time_spread", spread), ("guard_title_drift", drift & ~spread)):
        refused.update(dict.fromkeys(index[mask].tolist(), rule))
    ok = ~(spread | drift)
    labels[sr[ok]] = sl[ok]

    # Larger components: guarded union-find in order (within-source first, then by score).
    large = accepted[~small]
    if len(large):
        involved = np.zeros(n, dtype=bool)
        involved[large["left"].to_numpy()] = involved[large["right"].to_numpy()] = True
        members = np.flatnonzero(involved)
        local = np.full(n, -1, dtype="int64")
        local[members] = np.arange(len(members))
        clusters = _Clusters(keyed, members, settings)
        # Stable: equal scores keep the pairs' order, so a component gives the same clusters
        # whether it is clustered with all the others or in a partition of its own.
        order = large.assign(_within=large["same_source"]).sort_values(
            ["_within", "score"], ascending=[False, False], kind="stable"
        )
        for index_value, a, b, same_source in zip(
            order.index,
            local[order["left"].to_numpy()],
            local[order["right"].to_numpy()],
            order["same_source"],
            strict=True,
        ):
            why = clusters.union(int(a), int(b), bool(same_source))
            if why:
                refused[int(index_value)] = why
        roots = np.array([clusters.find(i) for i in range(len(members))], dtype="int64")
        labels[members] = members[roots]
    if refused:
        scored = scored.copy()
        idx = list(refused)
        scored.loc[idx, "decision"] = "refused"
        scored.loc[idx, "rule"] = [refused[i] for i in idx]
    return labels, scored
