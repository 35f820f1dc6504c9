"""The adapters judged on files real publishers wrote (tests/realworld/corpus.yaml), record by record.

The corpus is not committed (see the manifest's header): these tests read it from
$AGGREGATOR_REALWORLD or ../shared/data/realworld/ and skip, saying why, when it is absent.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SHARED, realworld_dir

from aggregator.config import parse_config
from aggregator.http import Fetched
from aggregator.normalise import normalise
from aggregator.reasons import TEMPLATES
from aggregator.sources import get_adapter

MANIFEST = yaml.safe_load((ROOT / "tests" / "realworld" / "corpus.yaml").read_text(encoding="utf-8"))["entries"]
ENTRIES = {entry.get("file") or entry.get("files") or entry["shared"]: entry for entry in MANIFEST}
REASONS = [re.compile(re.sub(r"\\\{\w+\\\}", ".+", re.escape(t)) + "$", re.DOTALL) for t in TEMPLATES.values()]


def _corpus(entry: dict | None = None) -> Path:
    """The corpus folder; an entry read from ../shared/ itself does not need it."""
    found = realworld_dir()
    if not found.is_dir() and not (entry and "shared" in entry):
        pytest.skip(f"real-world corpus absent ({found}): build it with scripts/realworld_corpus.py")
    return found


def _pages(corpus: Path, entry: dict) -> list[Fetched]:
    if "shared" in entry:
        path = SHARED / entry["shared"]
        if not path.is_file():
            pytest.skip(f"{path} absent: ../shared is not beside this checkout")
        return [Fetched(path.as_uri(), path.read_bytes())]
    if "file" in entry:
        path = corpus / entry["file"]
        return [Fetched(entry.get("page_url") or path.as_uri(), path.read_bytes())]
    folder = corpus / entry["files"]
    pattern = entry.get("page_url")
    return [
        Fetched(pattern.format(stem=path.stem) if pattern else path.as_uri(), path.read_bytes())
        for path in sorted(folder.iterdir())
    ]


def read(entry: dict, corpus: Path):
    """The entry's raw records and what normalisation made of them."""
    settings = {"id": "real", "kind": entry["kind"], "url": "x", **entry["settings"]}
    source = parse_config({"sources": [settings]}, Path("sources.yaml"), {}).sources[0]
    adapter = get_adapter(source.kind)
    pages = _pages(corpus, entry)
    parse_all = getattr(adapter, "parse_all", None)
    records = parse_all(pages, source) if parse_all else [r for p in pages for r in adapter.parse(p, source)]
    frame = pd.DataFrame(records).assign(
        source_id="real", source_kind=source.kind, fetched_at=pd.Timestamp("2026-12-01", tz="UTC")
    )
    reference = source.reference_date or date(2026, 12, 1)
    result = normalise(frame, {"real": source}, reference=reference) if records else None
    return records, result


def _local(value: pd.Timestamp, tz: str = "Europe/Paris") -> str:
    return value.tz_convert(tz).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_every_record_is_a_listing_or_a_reject_with_a_reason(name):
    entry = ENTRIES[name]
    records, result = read(entry, _corpus(entry))
    if "expect_records" in entry:
        assert len(records) == entry["expect_records"]
        return
    assert records, f"{name}: nothing read"
    assert result is not None
    rejected = result.rejects
    # Lists of dates give several listings per record; a record is rejected whole or not at all.
    assert len(result.listings) + len(rejected) >= len(records)
    for reason in rejected["reason"]:
        assert any(p.match(reason) for p in REASONS), reason


@pytest.mark.parametrize("name", sorted(n for n, e in ENTRIES.items() if e.get("checks")))
def test_hand_checked_records(name):
    entry = ENTRIES[name]
    _, result = read(entry, _corpus(entry))
    listings = result.listings
    for check in entry["checks"]:
        rows = listings[listings["title"] == check["title"]]
        assert len(rows), f"{name}: no listing titled {check['title']!r}"
        row = rows.sort_values("start_at").iloc[0]
        assert _local(row["start_at"]) == check["start"], check["title"]
        if "end" in check:
            assert _local(row["end_at"]) == check["end"], check["title"]
        for column in ("url", "postal_code", "commune_insee"):
            if column in check:
                assert row[column] == check[column], (check["title"], column)


def test_the_corpus_is_published_almost_whole():
    corpus = _corpus()
    total = rejected = 0
    for entry in MANIFEST:
        records, result = read(entry, corpus)
        total += len(records)
        rejected += 0 if result is None else len(result.rejects)
    assert total and (total - rejected) / total >= 0.98, f"{rejected} of {total} records rejected"


def _placed(name: str) -> dict[str, str | None]:
    _, result = read(ENTRIES[name], _corpus())
    return dict(zip(result.listings["title"], result.listings["commune_insee"], strict=False))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=e["below_target"])) if e.get("below_target") else n
        for n, e in sorted(ENTRIES.items())
        if e.get("communes")
    ],
)
def test_free_text_places_resolve_commune_by_commune(name):
    """Agendas whose places are text: every listing that names a place is in the right commune."""
    expected = ENTRIES[name]["communes"]
    got = _placed(name)
    right = sum((got.get(title) if not pd.isna(got.get(title)) else None) == code for title, code in expected.items())
    assert right / len(expected) >= 0.97, {t: (got.get(t), c) for t, c in expected.items() if got.get(t) != c}


@pytest.mark.parametrize(("feed", "pages"), [("ical/douai-collectif.ics", "jsonld/douai-collectif/"),
                                             ("ical/nicolasfroidure.ics", "jsonld/nicolasfroidure/")])  # fmt: skip
def test_one_publisher_in_two_formats_gives_one_event_each(feed, pages):
    from aggregator.dedupe import dedupe

    listings = []
    for source_id, name in (("feed", feed), ("pages", pages)):
        _, result = read(ENTRIES[name], _corpus())
        listings.append(result.listings.assign(source_id=source_id))
    merged = dedupe(
        pd.concat(listings, ignore_index=True), {"feed": 50, "pages": 50}, pd.Timestamp("2026-12-01", tz="UTC")
    )
    n_feed = len(listings[0])
    assert len(merged.events) == n_feed
    assert (merged.events["n_listings"] == 2).all()
