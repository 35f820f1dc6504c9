"""History across nightly runs: removed events kept, cancellations kept, every change logged."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES, write_config
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.config import load_config
from aggregator.history import carry_removed, changes
from aggregator.pipeline import run
from aggregator.schema import EVENTS
from aggregator.stats import edition_of, local_dates
from aggregator.validation import conform


def _calendar(events: list[tuple[str, str, str, str]]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//lab//history//FR"]
    for uid, title, start, status in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{title}", f"DTSTART;TZID=Europe/Paris:{start}",
                  "LOCATION:Bordeaux 33000", f"STATUS:{status}", "END:VEVENT"]  # fmt: skip
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


NIGHTS = [
    [("a", "Atelier design", "20261110T100000", "CONFIRMED"), ("b", "Conférence données", "20261112T140000", "CONFIRMED"),
     ("c", "Webinaire sobriété", "20261114T090000", "CONFIRMED"), ("d", "Visite du lab", "20261116T100000", "CONFIRMED")],
    # b rescheduled, c gone, e new
    [("a", "Atelier design", "20261110T100000", "CONFIRMED"), ("b", "Conférence données", "20261113T140000", "CONFIRMED"),
     ("d", "Visite du lab", "20261116T100000", "CONFIRMED"), ("e", "Hackathon services", "20261118T090000", "CONFIRMED")],
    # a cancelled, d retitled, c still gone
    [("a", "Atelier design", "20261110T100000", "CANCELLED"), ("b", "Conférence données", "20261113T140000", "CONFIRMED"),
     ("d", "Visite du lab numérique", "20261116T100000", "CONFIRMED"), ("e", "Hackathon services", "20261118T090000", "CONFIRMED")],
]  # fmt: skip


def test_three_nights_of_changes(tmp_path):
    ics = tmp_path / "lab.ics"
    config = load_config(write_config(tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: {ics}}}\n"))
    out = tmp_path / "out"
    reports, ids = [], {}
    for night in NIGHTS:
        ics.write_text(_calendar(night), encoding="utf-8")
        reports.append(run(config, out))
        assert reports[-1].status == "success"
        listings = pd.read_parquet(out / "listings.parquet")
        ids.update(dict(zip(listings["source_uid"], listings["event_id"], strict=True)))
    first, second, third = (r.started_at for r in reports)
    events = pd.read_parquet(out / "events.parquet").set_index("event_id")
    by_uid = {uid: events.loc[event_id] for uid, event_id in ids.items()}

    # c disappeared on the second night: kept, flagged, not counted.
    assert by_uid["c"]["removed_at"] == second
    assert by_uid["c"]["last_seen_at"] == first
    assert events["removed_at"].notna().sum() == 1
    totals = json.loads((out / "totals.json").read_text())
    assert totals["events"] == 4
    assert int(pd.read_parquet(out / "stats" / "by_event_type.parquet")["events"].sum()) == 4
    # a was cancelled: its row stays, with its status.
    assert by_uid["a"]["status"] == "cancelled" and pd.isna(by_uid["a"]["removed_at"])
    assert by_uid["a"]["first_seen_at"] == first and by_uid["a"]["last_seen_at"] == third
    # ids are stable across the three nights, through rescheduling and retitling.
    assert by_uid["b"]["start_at"] == pd.Timestamp("2026-11-13T13:00Z")
    assert by_uid["d"]["title"] == "Visite du lab numérique"
    assert by_uid["e"]["first_seen_at"] == second

    changes = pd.read_parquet(out / "changes.parquet")
    per_run = {
        run_at: sorted(zip(group["change"], group["event_id"].map({v: k for k, v in ids.items()}), strict=True))
        for run_at, group in changes.groupby("run_at")
    }
    assert per_run[first] == [("added", "a"), ("added", "b"), ("added", "c"), ("added", "d")]
    assert per_run[second] == [("added", "e"), ("removed", "c"), ("rescheduled", "b")]
    assert per_run[third] == [("cancelled", "a"), ("retitled", "d")]
    moved = changes[(changes["change"] == "rescheduled")].iloc[0]
    assert (moved["before"], moved["after"]) == ("2026-11-12T13:00:00+00:00", "2026-11-13T13:00:00+00:00")
    renamed = changes[(changes["change"] == "retitled")].iloc[0]
    assert (renamed["before"], renamed["after"]) == ("Visite du lab", "Visite du lab numérique")
    assert set(changes["run_id"]) == {r.run_id for r in reports}


def test_an_event_that_comes_back_is_restored(tmp_path):
    ics = tmp_path / "lab.ics"
    config = load_config(write_config(tmp_path, f"sources:\n  - {{id: lab, kind: ical, url: {ics}}}\n"))
    out = tmp_path / "out"
    for night in (NIGHTS[0], NIGHTS[1], NIGHTS[0]):
        ics.write_text(_calendar(night), encoding="utf-8")
        last = run(config, out)
    removed = pd.read_parquet(out / "events.parquet")
    assert removed.loc[removed["removed_at"].notna(), "title"].tolist() == ["Hackathon services"]  # e left tonight
    assert removed.loc[removed["title"] == "Webinaire sobriété", "removed_at"].isna().all()  # c is back
    changes = pd.read_parquet(out / "changes.parquet")
    tonight = changes[changes["run_id"] == last.run_id]
    assert sorted(tonight["change"]) == ["removed", "rescheduled", "restored"]


def _events(rows):
    frame = pd.DataFrame(rows, columns=["start_at", "region_code", "removed_at", "organizer"])
    frame["start_at"] = pd.to_datetime(frame["start_at"], utc=True)
    frame["removed_at"] = pd.to_datetime(frame["removed_at"], utc=True)
    frame["timezone"] = "Europe/Paris"
    return frame


def test_editions_compare_with_the_previous_november():
    from aggregator.stats import by_edition, by_organizer
    from aggregator.totals import edition_summary

    events = _events([
        # 2025: two in Nouvelle-Aquitaine (one unlisted after it happened: still counted), one withdrawn before.
        ("2025-11-10T09:00Z", "75", "2025-12-01T02:00Z", "Lab A"),
        ("2025-11-12T09:00Z", "75", None, "Lab A"),
        ("2025-11-20T09:00Z", "75", "2025-11-01T02:00Z", "Lab B"),
        ("2025-12-31T23:30Z", "11", None, " "),  # 1 January 2026 in Paris: the 2026 edition
        # 2026: three in Nouvelle-Aquitaine, one in no region.
        ("2026-11-03T09:00Z", "75", None, "Lab B"),
        ("2026-11-04T09:00Z", "75", None, None),
        ("2026-11-05T09:00Z", "75", None, "Lab A"),
        ("2026-11-06T09:00Z", None, None, "Lab A"),
    ])  # fmt: skip
    table = by_edition(events)
    assert sorted(set(table["edition"])) == [2025, 2026]
    assert len(table) == 2 * 19  # 18 regions and "no region", each edition
    na = table[table["region_code"] == "75"].set_index("edition")
    assert na.loc[2025, "events"] == 2 and na.loc[2026, "events"] == 3
    assert na.loc[2026, "previous_events"] == 2 and na.loc[2026, "change"] == 1
    assert table.groupby("edition")["events"].sum().to_dict() == {2025: 2, 2026: 5}
    summary = edition_summary(table, pd.Timestamp("2026-11-26T05:00Z"))
    assert summary["edition"]["events"] == 5 and summary["edition"]["previous_events"] == 2
    assert summary["sentence"] == "Édition 2026\u00a0: 5 événements, contre 2 en 2025, +150,0\u202f%."
    assert next(r for r in summary["edition"]["regions"] if r["code"] == "75")["change"] == 1
    assert by_organizer(events).to_dict("records") == [
        {"organizer": "Lab A", "events": 4}, {"organizer": "Lab B", "events": 2},
    ]  # fmt: skip


@pytest.mark.slow  # several commands: seconds each
def test_equal_priority_sources_with_the_same_event_never_flip_the_golden_record(tmp_path):
    """Two sources of equal priority list one event with different titles: the same one wins.

    Night after night, whatever order they were fetched in, so no spurious 'retitled' change is logged.
    """
    ics = (FIXTURES / "ical" / "lab-calendar.ics").read_text(encoding="utf-8")
    (tmp_path / "a.ics").write_text(ics, encoding="utf-8")
    (tmp_path / "b.ics").write_text(
        ics.replace("Atelier\\, design des politiques publiques", "Atelier design des politiques publiques (Lab)"),
        encoding="utf-8",
    )
    config = load_config(
        write_config(
            tmp_path,
            "run: {concurrency: 2}\nsources:\n"
            f"  - {{id: aa, kind: ical, url: {tmp_path / 'a.ics'}, priority: 50}}\n"
            f"  - {{id: bb, kind: ical, url: {tmp_path / 'b.ics'}, priority: 50}}\n",
        )
    )
    out = tmp_path / "out"
    titles = []
    for _ in range(4):
        assert run(config, out).status == "success"
        events = pd.read_parquet(out / "events.parquet")
        assert (events["n_listings"] == 2).all()  # every event listed by both sources
        titles.append(sorted(events["title"]))
    assert all(t == titles[0] for t in titles)
    changes = pd.read_parquet(out / "changes.parquet")
    assert "retitled" not in set(changes["change"])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 12, 31)),
            st.sampled_from(["Europe/Paris", "America/Cayenne", "Indian/Reunion", "Pacific/Noumea"]),
        ),
        max_size=20,
    )
)
def test_an_event_s_edition_is_the_year_of_its_local_start(rows):
    """31 December 23:30 UTC is already next year's edition in Paris, still this year's in Cayenne."""
    events = pd.DataFrame(
        {
            "start_at": pd.Series([pd.Timestamp(t, tz="UTC") for t, _ in rows], dtype="datetime64[us, UTC]"),
            "timezone": pd.Series([z for _, z in rows], dtype="str"),
        }
    )
    expected = [d.year for d in local_dates(events)] if rows else []
    assert edition_of(events).tolist() == expected
    assert str(edition_of(events).dtype) == "int64"


def _events_of(rows: list[tuple[str, str, int, str]], removed: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "event_id": [r[0] for r in rows],
            "title": [r[1] for r in rows],
            "start_at": [pd.Timestamp("2026-11-01T09:00Z") + pd.Timedelta(hours=r[2]) for r in rows],
            "status": [r[3] for r in rows],
            "removed_at": [pd.Timestamp("2026-11-20T02:00Z") if removed else None for _ in rows],
            "all_day": False,
            "n_sources": 1,
            "n_listings": 1,
        },
        index=range(len(rows)),
    )
    return conform(frame, EVENTS)


event_rows = st.lists(
    st.tuples(
        st.text("abcé€Z9", min_size=1, max_size=4).map(lambda s: "ev-" + s),
        st.sampled_from(["Atelier", "Visite", "Débat"]),
        st.integers(0, 3),
        st.sampled_from(["scheduled", "cancelled"]),
    ),
    max_size=12,
    unique_by=lambda r: r[0],
)


@settings(max_examples=150, deadline=None)
@given(event_rows, event_rows, event_rows)
def test_changes_come_sorted_by_kind_then_event_id(before, now, gone_before):
    """Kinds in alphabetical order, ids in order within each: as sorting every row by both would give."""
    known = {r[0] for r in before}
    previous = pd.concat(
        [_events_of(before), _events_of([r for r in gone_before if r[0] not in known], removed=True)],
        ignore_index=True,
    )
    out = changes(_events_of(now), previous, "run", pd.Timestamp("2026-11-26T02:00Z"))
    again = out.sort_values(["change", "event_id"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(out, again)
    assert len(out) == len(out.drop_duplicates(["change", "event_id"]))


@settings(max_examples=150, deadline=None)
@given(event_rows, event_rows, event_rows)
def test_changes_are_those_of_the_two_nights_compared_event_by_event(before, now, gone_before):
    known = {r[0] for r in before}
    removed = [r for r in gone_before if r[0] not in known]
    previous = pd.concat([_events_of(before), _events_of(removed, removed=True)], ignore_index=True)
    out = changes(_events_of(now), previous, "run", pd.Timestamp("2026-11-26T02:00Z"))
    got = {tuple(None if pd.isna(v) else v for v in row) for row in out[["change", "event_id", "title", "before",
                                                                        "after"]].itertuples(index=False)}  # fmt: skip
    old, new = {r[0]: r for r in before}, {r[0]: r for r in now}
    start = lambda hours: (pd.Timestamp("2026-11-01T09:00Z") + pd.Timedelta(hours=hours)).isoformat()  # noqa: E731
    expected = {("removed", i, r[1], None, None) for i, r in old.items() if i not in new}
    for i, r in new.items():
        if i not in old:
            back = i in {g[0] for g in removed}
            expected.add(("restored" if back else "added", i, r[1], None, None))
            continue
        if old[i][2] != r[2]:
            expected.add(("rescheduled", i, r[1], start(old[i][2]), start(r[2])))
        if old[i][1] != r[1]:
            expected.add(("retitled", i, r[1], old[i][1], r[1]))
        if r[3] == "cancelled" and old[i][3] != "cancelled":
            expected.add(("cancelled", i, r[1], old[i][3], r[3]))
    assert got == expected and len(out) == len(expected)


@settings(max_examples=150, deadline=None)
@given(event_rows, event_rows, st.booleans())
def test_removed_events_are_carried_and_every_event_comes_by_start_then_id(before, now, removed_before):
    run = pd.Timestamp("2026-11-26T02:00Z")
    previous = _events_of(before, removed=removed_before)
    # As read back from Parquet: the lists come as arrays.
    previous["source_ids"] = [np.array(["src", r[1]], dtype=object) for r in before]
    previous["source_urls"] = [np.array([], dtype=object) for _ in before]
    out = carry_removed(_events_of(now), previous, run)
    gone = previous[~previous["event_id"].isin([r[0] for r in now])].assign(
        removed_at=lambda f: f["removed_at"].fillna(run),
        source_ids=lambda f: [list(v) for v in f["source_ids"]],
        source_urls=lambda f: [list(v) for v in f["source_urls"]],
    )
    current = _events_of(now).assign(removed_at=pd.NaT)
    both = pd.concat([current, gone], ignore_index=True) if len(gone) else current
    # Without a last night, this night's events are kept in their order (deduplication's: by start, then id).
    expected = conform(both.sort_values(["start_at", "event_id"], kind="stable") if before else both, EVENTS)
    pd.testing.assert_frame_equal(out, expected)
