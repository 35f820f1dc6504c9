"""Candidate pairs by blocking, pair scores, decisions by documented rules, guarded clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from aggregator.dedupe.settings import DedupeSettings

PAIR_COLUMNS = ("left", "right")


def candidate_pairs(keyed: pd.DataFrame, settings: DedupeSettings) -> pd.DataFrame:
    """Candidate pairs (row positions): same place block and starts at most ``block_days`` apart.

    The place block is the département (else the region), or 'online'; never all pairs.
    """
    frame = pd.DataFrame(
        {"pos": np.arange(len(keyed)), "_place": keyed["_place"].to_numpy(), "_day": keyed["_day"].to_numpy()}
    )
    parts = []
    for offset in range(settings.block_days + 1):
        shifted = frame.assign(_day=frame["_day"] - offset)
        merged = frame.merge(shifted, on=["_place", "_day"], suffixes=("_l", "_r"))
        if offset == 0:
            merged = merged[merged["pos_l"] < merged["pos_r"]]
        parts.append(merged[["pos_l", "pos_r"]])
    pairs = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["pos_l", "pos_r"])
    return pairs.rename(columns={"pos_l": "left", "pos_r": "right"}).astype("int64")


def score_pairs(keyed: pd.DataFrame, pairs: pd.DataFrame, settings: DedupeSettings) -> pd.DataFrame:
    """Score components and the decision for every candidate pair (vectorised).

    Columns: ``title_score``, ``venue_score``, ``organizer_score``, ``time_delta_min``,
    ``same_time``, ``timezone_shift``, ``same_day``, ``same_postal``, ``same_city``, ``same_url``,
    ``same_source``, ``same_uid``, ``score``, ``decision`` (accepted/rejected) and ``rule``.
    """
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()

    def col(name: str) -> tuple[np.ndarray, np.ndarray]:
        values = keyed[name].to_numpy()
        return values[left], values[right]

    out = pairs.copy()
    tl, tr = col("_title")
    out["title_score"] = cpdist(list(tl), list(tr), scorer=fuzz.ratio, workers=-1) if len(pairs) else []
    vl, vr = col("_venue")
    venue = cpdist(list(vl), list(vr), scorer=fuzz.token_set_ratio, workers=-1) if len(pairs) else np.array([])
    out["venue_score"] = np.where((vl != "") & (vr != ""), venue, np.nan)
    ol, orr = col("_org")
    org = cpdist(list(ol), list(orr), scorer=fuzz.token_set_ratio, workers=-1) if len(pairs) else np.array([])
    out["organizer_score"] = np.where((ol != "") & (orr != ""), org, np.nan)

    sl, sr = col("start_at")
    delta: np.ndarray = (
        np.abs((pd.to_datetime(sl) - pd.to_datetime(sr)).total_seconds().to_numpy() / 60.0)
        if len(pairs)
        else np.array([], dtype=float)
    )
    out["time_delta_min"] = delta
    al, ar = col("all_day")
    dl, dr = col("_day")
    tol = settings.time_tolerance_min
    timed = ~(al.astype(bool) | ar.astype(bool))
    same_source = col("source_id")[0] == col("source_id")[1]
    shift = np.zeros(len(pairs), dtype=bool)
    for hours in settings.timezone_shifts_h:
        shift |= np.abs(np.asarray(delta) - 60 * hours) <= tol
    out["same_time"] = timed & (np.asarray(delta) <= tol)
    out["timezone_shift"] = timed & shift & ~same_source
    out["same_day"] = dl == dr
    pl, pr = col("postal_code")
    out["same_postal"] = pd.notna(pl) & pd.notna(pr) & (pl == pr)
    cl, cr = col("_city")
    out["same_city"] = (cl != "") & (cl == cr)
    city_conflict = (cl != "") & (cr != "") & (cl != cr)
    ul, ur = col("_url")
    out["same_url"] = (ul != "") & (ul == ur)
    out["same_source"] = same_source
    il, ir = col("source_uid")
    out["same_uid"] = same_source & pd.notna(il) & (il == ir)
    online = (col("_place")[0] == "online") & (col("_place")[1] == "online")

    time_ok = out["same_time"] | out["timezone_shift"] | (~timed & out["same_day"])
    venue_ok = out["venue_score"].fillna(0) >= settings.venue_agree
    place_agrees = out["same_postal"] | out["same_city"] | venue_ok | online
    place_conflict = city_conflict & ~out["same_postal"] & ~venue_ok
    exact = (tl == tr) & out["same_time"] & (cl == cr)

    rule = np.select(
        [
            out["same_uid"],
            same_source & exact,
            same_source,
            ~time_ok,
            out["same_url"],
            (out["title_score"] >= settings.title_accept) & ~place_conflict,
            (out["title_score"] >= settings.title_with_place) & place_agrees & (out["same_time"] | ~timed),
        ],
        [
            "same_uid",
            "same_source_exact",
            "same_source_distinct",
            "time_differs",
            "same_url",
            "title_time",
            "title_time_place",
        ],
        default="score_too_low",
    )
    out["rule"] = rule
    accepted = np.isin(rule, ["same_uid", "same_source_exact", "same_url", "title_time", "title_time_place"])
    out["decision"] = np.where(accepted, "accepted", "rejected")
    bonus = 5 * out["same_url"] + 3 * out["same_postal"] + 2 * out["same_city"] + 2 * out["same_time"]
    out["score"] = out["title_score"] + bonus.astype(float)
    return out


class _Clusters:
    """Union-find whose unions are refused when the merged cluster would chain unrelated events."""

    def __init__(self, keyed: pd.DataFrame, settings: DedupeSettings) -> None:
        n = len(keyed)
        self.parent = list(range(n))
        self.sources: list[set[str]] = [{s} for s in keyed["source_id"]]
        timed = ~keyed["all_day"].to_numpy(dtype=bool)
        utc = keyed["start_at"].dt.tz_convert("UTC").dt.tz_localize(None)
        minutes = utc.to_numpy().astype("datetime64[m]").astype("int64")
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
