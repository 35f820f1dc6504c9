"""Deduplication: rules on hand-made cases, stable ids across runs, explanations, measured accuracy."""

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES
from hypothesis import given
from hypothesis import strategies as st

from aggregator.config import parse_config
from aggregator.dedupe import dedupe
from aggregator.dedupe.evaluate import cluster_scores, pair_scores
from aggregator.dedupe.ids import assign_event_ids, new_id_from_key
from aggregator.dedupe.keys import title_key, title_keys
from aggregator.frames import SortedKeys, equal_keys
from aggregator.normalise import normalise
from aggregator.schema import EVENTS, LISTINGS, MATCHES
from aggregator.settings import DedupeSettings
from aggregator.validation import validate

RUN = pd.Timestamp("2026-11-25T02:00Z")
SOURCES = parse_config(
    {
        "sources": [
            {"id": s, "kind": "ical", "url": "x", "priority": p}
            for s, p in (("nat", 80), ("reg", 60), ("lab", 40), ("new", 50))
        ]
    },
    __import__("pathlib").Path("sources.yaml"),
    {},
).sources
PRIORITIES = {s.id: s.priority for s in SOURCES}


def _listings(rows):
    frame = pd.DataFrame(rows)
    frame["source_kind"], frame["fetched_at"] = "ical", pd.Timestamp("2026-11-25T01:00Z")
    frame["raw"] = "{}"
    return normalise(frame, {s.id: s for s in SOURCES}, reference=RUN.date()).listings


def _groups(result):
    by_uid = result.listings.set_index("source_uid")["event_id"]
    return {uid: by_uid[uid] for uid in by_uid.index}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Atelier : Design des services publics", "ATELIER – design des services publics"),
        ("[Atelier] Design des services publics", "Design des services publics"),
        ("Débat citoyen : la ville de demain", "Debat citoyen - la ville de demain (inscription obligatoire)"),
        ("Visite du lab de Saint-Étienne", "Visite du lab de St Etienne"),
        ("Conférence : l'innovation publique", "Conférence : l'innovation publique – Mois de l'innovation publique"),
    ],
)
def test_title_keys_ignore_spelling(a, b):
    from rapidfuzz import fuzz

    assert fuzz.ratio(title_key(a), title_key(b)) >= 88 or fuzz.token_set_ratio(title_key(a), title_key(b)) >= 95


def test_spellings_timezone_errors_and_dates_alone_merge():
    rows = [
        {"source_id": "nat", "uid": "n1", "title": "Atelier : Design des services", "start": "2026-11-03T14:00", "postal_code": "33000", "city": "Bordeaux", "venue_name": "Le Node"},
        {"source_id": "reg", "uid": "r1", "title": "ATELIER – design des services", "start": "2026-11-03T15:00", "postal_code": "33000", "city": "Bordeaux"},
        {"source_id": "lab", "uid": "l1", "title": "Design des services (atelier)", "start": "2026-11-03", "postal_code": "33000", "city": "Bordeaux", "venue_name": "LE NODE"},
    ]  # fmt: skip
    result = dedupe(_listings(rows), PRIORITIES, RUN)
    ids = _groups(result)
    assert ids["n1"] == ids["r1"] == ids["l1"]
    (event,) = result.events.itertuples()
    assert event.title == "Atelier : Design des services"  # the national programme wins
    assert event.start_at == pd.Timestamp("2026-11-03T13:00Z")  # and its time
    assert list(event.source_ids) == ["nat", "reg", "lab"] and event.n_sources == 3
    rules = set(result.matches.loc[result.matches["decision"] == "accepted", "rule"])
    assert "title_time" in rules


def test_occurrences_and_neighbours_stay_apart():
    rows = [
        # A workshop repeated on three dates: three events of one series.
        *({"source_id": "nat", "uid": f"w{d}", "title": "Atelier langage clair", "start": f"2026-11-{d:02d}T14:00", "postal_code": "35000", "city": "Rennes"} for d in (3, 10, 17)),
        # Two different workshops in the same room at the same time.
        {"source_id": "nat", "uid": "a", "title": "Atelier données ouvertes", "start": "2026-11-05T14:00", "postal_code": "35000", "city": "Rennes", "venue_name": "Salle 1"},
        {"source_id": "reg", "uid": "b", "title": "Atelier sobriété numérique", "start": "2026-11-05T14:00", "postal_code": "35000", "city": "Rennes", "venue_name": "Salle 1"},
        # The same title on the same day in two cities.
        {"source_id": "reg", "uid": "c", "title": "Atelier langage clair", "start": "2026-11-03T14:00", "postal_code": "29200", "city": "Brest"},
    ]  # fmt: skip
    result = dedupe(_listings(rows), PRIORITIES, RUN)
    ids = _groups(result)
    assert len(set(ids.values())) == 6
    series = result.events.set_index("event_id")["series_id"]
    assert series[ids["w3"]] == series[ids["w10"]] == series[ids["w17"]]
    assert series[ids["w3"]] != series[ids["c"]]


def test_one_source_never_lists_an_event_twice_except_true_duplicates():
    rows = [
        {"source_id": "nat", "uid": "x", "title": "Hackathon", "start": "2026-11-14T09:00", "city": "Lille", "postal_code": "59000"},
        {"source_id": "nat", "uid": "x", "title": "Hackathon", "start": "2026-11-14T09:00", "city": "Lille", "postal_code": "59000"},
        {"source_id": "nat", "uid": "y", "title": "Hackathon", "start": "2026-11-14T10:00", "city": "Lille", "postal_code": "59000"},
    ]  # fmt: skip
    result = dedupe(_listings(rows), PRIORITIES, RUN)
    assert len(result.events) == 2  # the same uid twice is one event; 10:00 in the same source is another
    assert set(result.matches["rule"]) >= {"same_uid"}


def test_the_guard_stops_chains_of_weak_links():
    # A-B and B-C would each be accepted with a time-zone shift, but A and C are 4 hours apart.
    rows = [
        {"source_id": "nat", "uid": "a", "title": "Forum des innovateurs", "start": "2026-11-20T10:00", "postal_code": "67000", "city": "Strasbourg"},
        {"source_id": "reg", "uid": "b", "title": "Forum des innovateurs", "start": "2026-11-20T12:00", "postal_code": "67000", "city": "Strasbourg"},
        {"source_id": "lab", "uid": "c", "title": "Forum des innovateurs", "start": "2026-11-20T14:00", "postal_code": "67000", "city": "Strasbourg"},
    ]  # fmt: skip
    result = dedupe(_listings(rows), PRIORITIES, RUN)
    ids = _groups(result)
    assert ids["a"] != ids["c"]
    assert "guard_time_spread" in set(result.matches["rule"])
    # The same refusal when the component is clustered in a partition (among empty ones).
    split = dedupe(_listings(rows), PRIORITIES, RUN, parts=3)
    pd.testing.assert_frame_equal(split.matches, result.matches)


def test_ids_are_stable_when_a_source_joins_and_a_title_is_corrected():
    first_rows = [
        {"source_id": "nat", "uid": "n1", "title": "Conférence innovation publique", "start": "2026-11-12T09:00", "postal_code": "45000", "city": "Orléans"},
        {"source_id": "reg", "uid": "r1", "title": "Webinaire achats", "start": "2026-11-13T11:00", "attendance_mode": "online"},
    ]  # fmt: skip
    first = dedupe(_listings(first_rows), PRIORITIES, RUN)
    before = _groups(first)
    later = RUN + pd.Timedelta(days=1)
    second_rows = [
        {**first_rows[0], "title": "Conférence : l'innovation publique en région"},  # corrected title, same uid
        first_rows[1],
        {
            "source_id": "new",
            "uid": "z9",
            "title": "Conférence innovation publique",
            "start": "2026-11-12T09:00",
            "postal_code": "45000",
            "city": "Orléans",
        },
    ]
    second = dedupe(_listings(second_rows), PRIORITIES, later, first.events, first.listings)
    after = _groups(second)
    assert after["n1"] == before["n1"] == after["z9"]
    assert after["r1"] == before["r1"]
    assert second.events.set_index("event_id").loc[before["n1"], "first_seen_at"] == RUN


def test_outputs_follow_their_schemas():
    rows = [{"source_id": "nat", "uid": "1", "title": "A", "start": "2026-11-03T10:00"}]
    result = dedupe(_listings(rows), PRIORITIES, RUN)
    validate(result.listings, LISTINGS)
    validate(result.events, EVENTS)
    validate(result.matches, MATCHES)


def test_accuracy_on_the_labelled_fixture():
    """The fixed copy of the benchmark (bench/dedupe_workload.py, 1,500 events, seed 11)."""
    labelled = pd.read_parquet(FIXTURES / "dedupe" / "labelled.parquet")
    truth = labelled.pop("true_event")
    labelled.pop("true_series")
    result = dedupe(labelled, {"national": 80, "portal": 70, "regional": 60, "lab": 40, "partner": 30}, RUN)
    predicted = result.listings.set_index("listing_id").loc[labelled["listing_id"], "event_id"]
    pairs, clusters = pair_scores(truth, predicted), cluster_scores(truth, predicted)
    assert pairs.precision >= 0.99
    assert pairs.recall >= 0.97
    assert clusters.precision >= 0.98 and clusters.recall >= 0.98


def test_evaluation_counts_pairs_and_clusters():
    truth = pd.Series([1, 1, 1, 2, 3])
    predicted = pd.Series(["a", "a", "b", "b", "c"])
    pairs = pair_scores(truth, predicted)
    assert (pairs.precision, pairs.recall) == (0.5, 1 / 3)
    clusters = cluster_scores(truth, predicted)
    assert (clusters.precision, clusters.recall) == (1 / 3, 1 / 3)


def test_settings_are_configurable_and_validated():
    with pytest.raises(Exception, match="title_accept"):
        DedupeSettings(title_accept="high")
    config = parse_config({"dedupe": {"title_accept": 92}, "sources": [{"id": "a", "kind": "ical", "url": "u"}]},
                          __import__("pathlib").Path("s.yaml"), {})  # fmt: skip
    assert config.dedupe.title_accept == 92


@pytest.mark.parametrize("parts", [2, 5])
def test_scoring_and_clustering_in_partitions_give_what_the_whole_gives(parts):
    """Partitions of whole components (as on Dask workers) change nothing, down to the explained pairs."""
    labelled = pd.read_parquet(FIXTURES / "dedupe" / "labelled.parquet").drop(columns=["true_event", "true_series"])
    priorities = {"national": 80, "portal": 70, "regional": 60, "lab": 40, "partner": 30}
    whole = dedupe(labelled, priorities, RUN)
    used: list[int] = []

    def map_blocks(func, blocks):
        used.append(len(blocks))
        return [func(block) for block in reversed(blocks)][::-1]  # run out of order, answered in order

    split = dedupe(labelled, priorities, RUN, parts=parts, map_blocks=map_blocks)
    assert used == [parts]
    pd.testing.assert_frame_equal(split.listings, whole.listings)
    pd.testing.assert_frame_equal(split.events, whole.events)
    pd.testing.assert_frame_equal(split.matches, whole.matches)


def test_records_their_publisher_keeps_apart_stay_apart():
    """One agenda's seven records: same title and start, each its own uid, URL, organiser and address."""
    addresses = [("75011", "Place Léon Blum"), ("75012", "Place Félix Éboué"), ("75013", "Place d'Italie"),
                 ("75014", "Place Denfert-Rochereau"), ("75015", "Place du Commerce"), ("75020", "Place Gambetta"),
                 ("75020", "Square Édouard Vaillant")]  # fmt: skip
    rows = [
        {"source_id": "nat", "uid": f"mav-{i}", "title": "Mai à Vélo 2026", "start": "2026-05-16T10:00",
         "url": f"https://agenda.example.org/mai-a-velo-{i}", "organizer": f"Association {i}",
         "postal_code": postal, "city": "Paris", "street_address": street, "venue_name": street}
        for i, (postal, street) in enumerate(addresses)
    ]  # fmt: skip
    result = dedupe(_listings(rows), PRIORITIES, RUN)
    assert len(result.events) == 7
    assert set(result.listings["commune_insee"]) == {"75056"}
    assert set(result.listings["arrondissement_insee"]) == {"75111", "75112", "75113", "75114", "75115", "75120"}
    # The same record published twice under two uids, with one URL and one place, is one event.
    twice = [{**rows[0], "uid": "copy-a"}, {**rows[0], "uid": "copy-b"}]
    assert len(dedupe(_listings(twice), PRIORITIES, RUN).events) == 1


def test_listings_without_geography_meet_the_same_events_with_it():
    """A publisher's iCalendar feed (with places) and its pages (without): one event each, not two."""
    titles = ["Réunion de quartier - Frais-Marais", "Conseil municipal de Douai", "Marche organisée par Nous Toutes"]
    starts = ["2026-02-24T18:30", "2026-02-13T18:00", "2026-03-08T14:00"]
    feed = [{"source_id": "nat", "uid": f"ics-{i}", "title": t, "start": s, "postal_code": "59500", "city": "Douai"}
            for i, (t, s) in enumerate(zip(titles, starts, strict=True))]  # fmt: skip
    pages = [{"source_id": "reg", "uid": f"page-{i}", "title": t, "start": s}
             for i, (t, s) in enumerate(zip(titles, starts, strict=True))]  # fmt: skip
    online = [{"source_id": "lab", "uid": "web", "title": titles[1], "start": starts[1], "attendance_mode": "online"}]
    result = dedupe(_listings(feed + pages + online), PRIORITIES, RUN)
    assert len(result.events) == 3
    assert sorted(result.events["n_listings"]) == [2, 2, 3]
    # Same title without a place, another time: still two events.
    other = [{**pages[0], "uid": "later", "start": "2026-03-24T18:30"}]
    assert len(dedupe(_listings(feed + other), PRIORITIES, RUN).events) == 4


@pytest.mark.parametrize("share", [0.2])
def test_accuracy_holds_with_geography_stripped_from_a_share_of_listings(share):
    """The labelled fixture with département, region, commune, postal code and city removed from 20 %."""
    labelled = pd.read_parquet(FIXTURES / "dedupe" / "labelled.parquet")
    truth = labelled.pop("true_event")
    labelled.pop("true_series")
    stripped = labelled.sample(frac=share, random_state=7).index
    for column in ("departement_code", "departement_name", "region_code", "region_name", "commune_insee",
                   "postal_code", "city", "latitude", "longitude"):  # fmt: skip
        labelled.loc[stripped, column] = None
    labelled.loc[stripped, "geo_precision"] = "none"
    result = dedupe(labelled, {"national": 80, "portal": 70, "regional": 60, "lab": 40, "partner": 30}, RUN)
    predicted = result.listings.set_index("listing_id").loc[labelled["listing_id"], "event_id"]
    pairs, clusters = pair_scores(truth, predicted), cluster_scores(truth, predicted)
    print(f"stripped {len(stripped)}: pairs P {pairs.precision:.4f} R {pairs.recall:.4f}, "
          f"clusters P {clusters.precision:.4f} R {clusters.recall:.4f}")  # fmt: skip
    assert pairs.precision >= 0.99
    assert pairs.recall >= 0.97
    assert clusters.precision >= 0.98 and clusters.recall >= 0.98


def test_which_fresh_source_was_fetched_first_never_picks_the_survivor():
    # Two sources of equal priority list one event with different URLs; the run fetches them a
    # few milliseconds apart, in either order depending on scheduling (threads, Prefect, Dask).
    sources = {s: PRIORITIES["reg"] for s in ("reg", "new")}
    rows = [
        {"source_id": "reg", "uid": "r1", "title": "Marche pour l'égalité", "start": "2026-11-21T14:00",
         "postal_code": "59500", "city": "Douai", "url": "https://a.example/marche"},
        {"source_id": "new", "uid": "w1", "title": "Marche pour l'égalité", "start": "2026-11-21T14:00",
         "postal_code": "59500", "city": "Douai", "url": "https://b.example/marche"},
    ]  # fmt: skip
    urls = set()
    for first, second in (("reg", "new"), ("new", "reg")):
        listings = _listings(rows)
        listings["fetched_at"] = listings["source_id"].map(
            {first: pd.Timestamp("2026-11-25T01:00:00.010Z"), second: pd.Timestamp("2026-11-25T01:00:00.020Z")}
        )
        events = dedupe(listings, sources, RUN).events
        assert len(events) == 1
        urls.add(events["url"].iloc[0])
    assert len(urls) == 1
    # A stale listing (its source failed; last good data kept) still gives way to a fresh one.
    listings = _listings(rows)
    listings.loc[listings["source_id"] == "reg", "stale_since"] = pd.Timestamp("2026-11-24T01:00Z")
    assert dedupe(listings, sources, RUN).events["url"].iloc[0] == "https://b.example/marche"


def test_a_crowded_block_compares_only_same_titles_and_says_so():
    """A venue listing hundreds of same-day events: the pairs stay bounded, true repeats still merge."""
    rows = [{"source_id": "nat", "uid": f"n{i}", "title": f"Exposition numéro {i}", "start": "2026-11-14",
             "postal_code": "33000", "city": "Bordeaux"} for i in range(60)]  # fmt: skip
    rows += [
        {"source_id": "reg", "uid": "r7", "title": "Exposition numéro 7", "start": "2026-11-14", "postal_code": "33000",
         "city": "Bordeaux"},
        # Another spelling of n8 that folds to the same title key: it still meets n8 in a crowded block.
        {"source_id": "reg", "uid": "r8", "title": "Exposition - numero 8 !", "start": "2026-11-14",
         "postal_code": "33000", "city": "Bordeaux"},
    ]  # fmt: skip
    listings = _listings(rows)
    roomy = dedupe(listings, PRIORITIES, RUN)
    crowded = dedupe(listings, PRIORITIES, RUN, settings=DedupeSettings(max_block_listings=50))
    assert roomy.crowded_blocks == 0 and crowded.crowded_blocks == 1
    assert crowded.candidates < roomy.candidates / 20  # same title keys only, not every pair of the day
    for result in (roomy, crowded):
        ids = _groups(result)
        assert ids["r7"] == ids["n7"] and len(set(ids.values())) == 60
    assert _groups(crowded)["r8"] == _groups(crowded)["n8"]  # the title key folds punctuation and accents


# Titles as sources write them: a leading bracket, format words, boilerplate, a trailing
# parenthesis, odd spaces around them (Python's \s is Unicode, RE2's is ASCII).
SPACES = st.sampled_from(["", " ", "  ", "\u00a0", "\u2003", "\t", "\n", "\u202f "])
BRACKETED = st.tuples(st.sampled_from("[("), st.text(max_size=12) | st.just("x" * 45), st.sampled_from("])")).map(
    "".join
)
WORDS = st.sampled_from(
    ["Atelier", "ateliers", "Conférence", "table ronde", "Visite", ":", "-", "Gratuit", "inscription obligatoire",
     "St", "Ste", "l’IA", "de", "la", "Données", "numérique", "(", "]", "MIP 2026", "Édition 2026", "Œuvre"]
)  # fmt: skip
BODY = st.lists(WORDS | st.text(max_size=8), max_size=6).map(" ".join)
TITLES = (
    st.tuples(SPACES, st.just("") | BRACKETED, SPACES, BODY, SPACES, st.just("") | BRACKETED, SPACES).map("".join)
    | st.text()
)


@given(st.lists(st.none() | TITLES, max_size=30))
def test_title_keys_of_a_column_are_title_key_of_each_title(titles):
    assert list(title_keys(pd.Series(titles, dtype=object))) == [title_key(t) for t in titles]


KEYS = st.lists(st.integers(-3, 6), max_size=25).map(lambda v: np.array(v, dtype=np.int64))


@given(KEYS, KEYS, st.integers(-3, 3), st.booleans())
def test_joins_on_sorted_keys_give_the_pairs_of_a_merge_in_its_order(left, right, offset, same):
    right = left if same else right
    merged = pd.DataFrame({"i": np.arange(len(left)), "k": left}).merge(
        pd.DataFrame({"j": np.arange(len(right)), "k": right - offset}), on="k"
    )
    i, j = equal_keys(SortedKeys(left), SortedKeys(right), offset)
    assert i.tolist() == merged["i"].tolist() and j.tolist() == merged["j"].tolist()


def _ids_oracle(listing_ids: list[str], labels: list[int], previous: dict[str, str]) -> list[str]:
    """``assign_event_ids`` spelt out cluster by cluster: old ids by votes, larger clusters first, else a new one."""
    members: dict[int, list[str]] = {}
    for listing_id, label in zip(listing_ids, labels, strict=True):
        members.setdefault(label, []).append(listing_id)
    claims = []  # (cluster size, votes, old id, label): the strongest claim first
    for label, ids in members.items():
        votes: dict[str, int] = {}
        for listing_id in ids:
            if listing_id in previous:
                votes[previous[listing_id]] = votes.get(previous[listing_id], 0) + 1
        claims += [(-len(ids), -n, old, label) for old, n in votes.items()]
    chosen: dict[int, str] = {}
    for _, _, old, label in sorted(claims):  # full ties: the cluster whose representative comes first
        if label not in chosen and old not in chosen.values():
            chosen[label] = old
    named = dict(chosen)
    for label in members:
        if label not in chosen:  # named after its smallest listing, never an old id kept this run
            key, n = min(members[label]), 1
            named[label] = new_id_from_key(key)
            while named[label] in chosen.values():
                n += 1
                named[label] = new_id_from_key(f"{key}|{n}")
    return [named[label] for label in labels]


@given(
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 12)), min_size=0, max_size=40, unique_by=lambda t: t[0]),
    st.dictionaries(
        st.integers(0, 40),
        # Old ids as runs name them too: after a listing (the smallest of its event then).
        st.sampled_from([f"ev-old{i}" for i in range(6)] + [new_id_from_key(f"li-{n:04d}") for n in range(8)]),
        max_size=25,
    ),
)
def test_event_ids_are_old_ids_by_votes_or_named_after_the_smallest_listing(
    rows: list[tuple[int, int]], previous: dict[int, str]
) -> None:
    listing_ids = [f"li-{number:04d}" for number, _ in rows]
    labels = [label for _, label in rows]
    earlier = {f"li-{number:04d}": old for number, old in previous.items()}
    index = pd.Index(range(7, 7 + len(rows)))
    given_previous = pd.DataFrame({"listing_id": list(earlier), "event_id": list(earlier.values())})
    got = assign_event_ids(
        pd.Series(listing_ids, index=index, dtype=object), pd.Series(labels, index=index), given_previous
    )
    assert got.index.equals(index)
    assert got.tolist() == _ids_oracle(listing_ids, labels, earlier)


def test_an_event_split_in_two_gives_two_ids_and_both_stay_the_next_night():
    # Last night li-1 and li-2 were one event, named after li-1, its smallest listing. Tonight li-1
    # stands alone and li-2 is matched with a new li-3: the larger part keeps the old id, and the part
    # holding li-1 must not be named after li-1 again (it was: the two parts stayed one event).
    old = new_id_from_key("li-1")
    listing_ids = pd.Series(["li-1", "li-2", "li-3"], dtype=object)
    tonight = assign_event_ids(
        listing_ids, pd.Series([0, 1, 1]), pd.DataFrame({"listing_id": ["li-1", "li-2"], "event_id": [old, old]})
    )
    assert tonight[1] == tonight[2] == old
    assert tonight[0] not in (old, "") and tonight[0].startswith("ev-")
    again = assign_event_ids(
        listing_ids, pd.Series([0, 1, 1]), pd.DataFrame({"listing_id": listing_ids, "event_id": tonight})
    )
    assert again.tolist() == tonight.tolist()


def test_a_listing_twice_in_last_nights_table_holds_its_first_id_and_a_missing_id_holds_none():
    previous = pd.DataFrame(
        {"listing_id": ["li-1", "li-1", "li-2", "li-2"], "event_id": ["ev-a", "ev-b", None, "ev-c"]}
    )
    got = assign_event_ids(pd.Series(["li-1", "li-2"], dtype=object), pd.Series([0, 1]), previous)
    assert got.tolist() == ["ev-a", new_id_from_key("li-2")]
