"""The source health alarm: zero items, or a sharp drop against the recent median of good runs."""

from __future__ import annotations

import pandas as pd
import pytest

from aggregator.health import alarm, stale_since


def _history(counts, statuses=None, source="lab"):
    runs = pd.date_range("2026-11-01T01:00Z", periods=len(counts), freq="D")
    return pd.DataFrame(
        {
            "source_id": source,
            "run_at": runs,
            "status": statuses or ["ok"] * len(counts),
            "items_fetched": counts,
        }
    )


def test_zero_items_is_always_an_alarm():
    assert alarm(0, None, "lab", 0.5, 7) == "returned zero items"
    assert alarm(0, _history([0, 0]), "lab", 0.5, 7) == "returned zero items"


def test_first_run_with_items_is_fine():
    assert alarm(3, None, "lab", 0.5, 7) is None


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (100, None),
        (51, None),
        (50, None),
        (49, "returned 49 items, 51% below its median of 100 over the last 7 good runs"),
    ],
)
def test_drop_against_the_median_of_recent_good_runs(items, expected):
    history = _history([10, 10, 10, 100, 100, 100, 100, 100, 100, 100])  # old small counts fall out of the window
    assert alarm(items, history, "lab", 0.5, 7) == expected


def test_only_good_runs_of_this_source_make_the_median():
    history = pd.concat(
        [
            _history([100, 100, 0], statuses=["ok", "ok", "broken"]),
            _history([5, 5, 5], source="other"),
        ]
    )
    assert alarm(60, history, "lab", 0.5, 7) is None
    assert "below its median of 100" in (alarm(40, history, "lab", 0.5, 7) or "")
    assert alarm(60, history, "lab", 0.3, 7) is not None  # a stricter threshold


def test_stale_since_is_the_first_bad_run_after_the_last_good_one():
    history = _history([9, 9, 0, 0], statuses=["ok", "failed", "ok", "failed"])
    now = pd.Timestamp("2026-11-30T01:00Z")
    assert stale_since(history, "lab", now) == history["run_at"].iloc[3]
    assert stale_since(_history([9], statuses=["ok"]), "lab", now) == now
    assert stale_since(None, "lab", now) == now
