"""Build a run's outputs from its collected sources: health, normalisation, dedup, history, statistics (no I/O)."""

from __future__ import annotations

import pandas as pd

from aggregator import stats
from aggregator.collection import SourceResult
from aggregator.config import Config
from aggregator.dedupe import dedupe
from aggregator.dedupe.blocks import MapBlocks
from aggregator.gc_policy import fewer_collections
from aggregator.health import assess_sources, health_rows
from aggregator.history import active, carry_removed, changes
from aggregator.normalise import MapChunks, normalise
from aggregator.outputs import Outputs
from aggregator.schema import CHANGES, LISTINGS, SOURCE_HEALTH, Table
from aggregator.state import Previous
from aggregator.totals import build_totals, edition_summary
from aggregator.validation import conform


def partitions(config: Config, rows: int) -> int:
    """How many partitions a stage cuts ``rows`` rows into: at most ``run.partition_rows`` rows each.

    Past half of ``run.partition_rows``, at least two: a second core then pays for shipping the rows.
    Several partitions are as many as a multiple of ``run.processes``, so that every worker gets the
    same share (11 partitions on two workers kept one of them busy for six while the other idled).
    """
    parts = max(1, -(-rows // config.run.partition_rows), 2 if 2 * rows > config.run.partition_rows else 1)
    if parts == 1:
        return 1
    workers = max(1, config.run.processes)
    return -(-parts // workers) * workers


@fewer_collections()
def build_outputs(
    results: list[SourceResult],
    config: Config,
    run_at: pd.Timestamp,
    previous: Previous | None = None,
    run_id: str = "",
    map_chunks: MapChunks | None = None,
    map_blocks: MapBlocks | None = None,
) -> Outputs:
    """Normalise, judge the sources' health, deduplicate and summarise (pure: no I/O).

    Sources that failed or look broken (judged on what normalisation kept: ``assess_sources``)
    contribute their last good listings (``previous.last_good``) instead of tonight's, flagged
    ``stale_since``, so that one bad night does not make their events vanish. Their rejects are
    published: they say what broke.

    Args:
        results: This run's collected sources.
        config: The run's configuration.
        run_at: Start of the run.
        previous: The last run's published state.
        run_id: This run's id.
        map_chunks: The ``map`` that runs the normalisation ``partitions`` (worker processes, Dask
            workers); None: all here.
        map_blocks: The ``map`` that runs deduplication's scoring and clustering on ``partitions``
            of whole components (Dask workers); None: all at once, here.
    """
    previous = previous or Previous()
    collected = [r for r in results if r.status == "ok" and len(r.records)]
    raw = (
        pd.concat([r.records for r in collected], ignore_index=True)
        if collected
        else pd.DataFrame(columns=["source_id", "source_kind"])
    )
    by_id = {s.id: s for s in config.sources}
    reference = run_at.tz_convert("Europe/Paris").date()
    normalised = normalise(raw, by_id, reference, partitions(config, len(raw)), map_chunks)
    verdicts, stale = assess_sources(results, normalised.listings, normalised.rejects, config, run_at, previous)
    rows = normalised.listings
    broken = [source_id for source_id, v in verdicts.items() if v.status != "ok"]
    if broken and len(rows):  # a broken source's listings of tonight give way to its last good ones
        rows = rows[~rows["source_id"].isin(broken)].reset_index(drop=True)
    if len(stale):
        rows = pd.concat([conform(rows, LISTINGS), conform(stale, LISTINGS)], ignore_index=True)
    merged = dedupe(
        rows,
        {s.id: s.priority for s in config.sources},
        run_at,
        previous.events,
        previous.listings,
        config.dedupe,
        partitions(config, len(rows)) if map_blocks is not None else 1,
        map_blocks,
    )
    listings = merged.listings
    # Events no source lists any more stay, flagged removed_at; statistics count the others.
    events = carry_removed(merged.events, previous.events, run_at)
    change_rows = changes(events, previous.events, run_id, run_at)
    live = active(events)
    source_table = pd.DataFrame(
        [{"source_id": r.source_id, "kind": r.kind, "status": verdicts[r.source_id].status} for r in results],
        columns=["source_id", "kind", "status"],
    )
    tables = stats.all_tables(listings, live, normalised.rejects, source_table)
    tables["by_edition"] = stats.by_edition(events)  # all editions seen, past events included
    totals = build_totals(live, listings, normalised.rejects, tables["by_region"], tables["by_departement"], run_at)
    edition = edition_summary(tables["by_edition"], run_at)
    totals["edition"] = edition["edition"]
    totals["sentences"]["edition"] = edition["sentence"]
    warnings = [*previous.warnings, *normalised.warnings]
    if merged.crowded_blocks:
        warnings.append(
            f"deduplication: {merged.crowded_blocks} (département, day) groups hold more than "
            f"dedupe.max_block_listings ({config.dedupe.max_block_listings:,}) listings; there, only listings "
            "with the same title key were compared"
        )
    for r in results:
        warnings.extend(r.notes)
        verdict = verdicts[r.source_id]
        if verdict.status == "ok":
            continue
        cause = f"looks broken: {verdict.alarm}" if verdict.status == "broken" else "failed"
        kept = (
            f"its last good data ({verdict.stale_listings} listings) is kept, stale since "
            f"{verdict.stale_since.isoformat() if verdict.stale_since is not None else '?'}"
            if verdict.stale_listings
            else "no earlier good data to keep: it contributes nothing"
        )
        warnings.append(f"source {r.source_id} {cause}; {kept}")
    health = _history(previous.health, health_rows(results, verdicts, listings, normalised.rejects, run_id, run_at),
                      SOURCE_HEALTH)  # fmt: skip
    totals["sources"] = len(results)
    people_files = len(live) <= config.run.people_files_max_events
    if not people_files:
        warnings.append(
            f"{len(live):,} events, more than run.people_files_max_events ({config.run.people_files_max_events:,}): "
            "events.xlsx, calendars/, events.geojson and events.jsonld are not written this run"
        )
    return Outputs(
        listings=listings,
        events=events,
        rejects=normalised.rejects,
        matches=merged.matches,
        stats=tables,
        totals=totals,
        warnings=warnings,
        health=verdicts,
        health_rows=health,
        people_files=people_files,
        changes=_history(previous.changes, change_rows, CHANGES),
    )


def _history(earlier: pd.DataFrame | None, rows: pd.DataFrame, table: Table) -> pd.DataFrame:
    """A history table: the earlier runs' rows, then this run's."""
    frames = [conform(f, table) for f in (earlier, rows) if f is not None and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else table.empty_frame()
