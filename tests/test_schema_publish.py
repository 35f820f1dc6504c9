"""The one schema: Parquet types, validation, the generated dictionary, atomic writes."""

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import aggregator.publish
from aggregator.dictionary import render
from aggregator.publish import BackgroundWrites, write_table, write_text
from aggregator.schema import EVENTS, REJECTS
from aggregator.validation import SchemaError, conform, validate

ROOT = Path(__file__).resolve().parent.parent


def _event(**overrides):
    row = {
        "event_id": "ev-0123456789abcdef", "title": "Atelier", "start_at": pd.Timestamp("2026-11-03T13:00Z"),
        "timezone": "Europe/Paris", "all_day": False, "attendance_mode": "in_person", "event_type": "atelier",
        "status": "scheduled", "geo_precision": "postal_code", "departement_code": "2A", "region_code": "94",
        "postal_code": "20000", "source_ids": ["a"], "source_urls": [], "n_sources": 1, "n_listings": 1, "series_id": "se-0123456789abcdef",
        "first_seen_at": pd.Timestamp("2026-11-25T02:00Z"), "last_seen_at": pd.Timestamp("2026-11-25T02:00Z"),
    }  # fmt: skip
    row.update(overrides)
    return conform(pd.DataFrame([row]), EVENTS)


def test_data_dictionary_is_up_to_date():
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/data-dictionary.md is stale: run `aggregator docs`"


def test_source_kinds_reference_is_up_to_date():
    from aggregator.source_reference import render as render_kinds

    committed = (ROOT / "docs" / "source-kinds.md").read_text(encoding="utf-8")
    assert committed == render_kinds(), "docs/source-kinds.md is stale: run `aggregator docs`"


def test_every_source_setting_is_described():
    from aggregator.settings import HttpSettings, SourceConfig
    from aggregator.source_reference import _nested_models
    from aggregator.sources import KINDS

    models = {SourceConfig, HttpSettings, *(adapter.settings for adapter in KINDS.values())}
    for model in list(models):
        for field in model.model_fields.values():
            models.update(_nested_models(field.annotation))
    for model in models:
        for name, field in model.model_fields.items():
            if name == "kind":  # each kind's section of the reference is named after it
                continue
            assert (field.description or "").strip(), f"{model.__name__}.{name} has no description"


def test_every_column_is_described():
    for table in (EVENTS, REJECTS):
        for column in table.columns:
            assert column.description.strip(), column.name


def test_parquet_round_trip_keeps_documented_types_and_metadata(tmp_path):
    path = tmp_path / "events.parquet"
    write_table(_event(), EVENTS, path)
    frame = pd.read_parquet(path)
    assert str(frame["start_at"].dtype) == "datetime64[us, UTC]"
    assert str(frame["departement_code"].dtype) == "str"
    assert frame.loc[0, "departement_code"] == "2A"
    assert list(frame.loc[0, "source_ids"]) == ["a"]
    schema = pq.read_schema(path)
    assert schema.metadata[b"schema_version"] == b"1.3"
    assert schema.field("region_code").metadata[b"description"].startswith(b"INSEE code of the region")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("attendance_mode", "offline"),
        ("departement_code", "20"),
        ("postal_code", "3300"),
        ("event_id", "x"),
    ],
)
def test_validation_refuses_values_outside_the_schema(column, value):
    with pytest.raises(SchemaError, match=column):
        validate(_event(**{column: value}), EVENTS)


def test_invalid_table_is_never_written(tmp_path):
    path = tmp_path / "events.parquet"
    write_table(_event(), EVENTS, path)
    before = path.read_bytes()
    with pytest.raises(SchemaError):
        write_table(_event(title=None), EVENTS, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["events.parquet"]  # no temporary left behind


def test_a_write_killed_halfway_leaves_the_previous_file(tmp_path):
    target = tmp_path / "totals.md"
    write_text("previous\n", target)
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from aggregator.publish import atomic_path\n"
        f"with atomic_path(Path({str(target)!r})) as tmp:\n"
        "    tmp.write_text('half of the new')\n"
        "    os._exit(9)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == 9
    assert target.read_text() == "previous\n"


def test_library_never_imports_prefect():
    code = (
        "import sys, pkgutil, importlib, aggregator\n"
        "for m in pkgutil.walk_packages(aggregator.__path__, 'aggregator.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('prefect' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"


def test_tables_written_in_the_background_are_the_same_files_and_a_failure_is_raised(tmp_path):
    write_table(_event(), EVENTS, tmp_path / "here.parquet")
    with BackgroundWrites() as background:
        for name in ("one", "two", "three"):
            write_table(_event(), EVENTS, tmp_path / f"{name}.parquet", background=background)
    for name in ("one", "two", "three"):
        assert (tmp_path / f"{name}.parquet").read_bytes() == (tmp_path / "here.parquet").read_bytes()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(FileExistsError), BackgroundWrites() as background:  # the thread's error, at the end
        write_table(_event(), EVENTS, blocker / "events.parquet", background=background)

    def failing_write_then_invalid_table() -> None:
        with BackgroundWrites() as background:
            write_table(_event(), EVENTS, blocker / "events.parquet", background=background)  # fails in the thread
            write_table(_event(title=None), EVENTS, tmp_path / "bad.parquet", background=background)

    with pytest.raises(SchemaError):  # validation stays in the caller; its error is not hidden by the thread's
        failing_write_then_invalid_table()
    assert not (tmp_path / "bad.parquet").exists()


def test_background_writes_wait_only_when_the_tables_being_written_leave_no_room(tmp_path, monkeypatch):
    released, written = threading.Event(), []

    def held_write(arrow, path):  # a write that lasts until the test releases it
        assert released.wait(10)
        written.append(path.name)

    monkeypatch.setattr(aggregator.publish, "_write_parquet", held_write)
    big, small = pa.table({"x": list(range(1000))}), pa.table({"x": [1]})
    with BackgroundWrites(limit=big.nbytes + 2 * small.nbytes) as background:
        background.submit(big, tmp_path / "big.parquet")
        background.submit(small, tmp_path / "small.parquet")  # room left: returns at once
        background.submit(small, tmp_path / "small2.parquet")
        third = threading.Thread(target=background.submit, args=(small, tmp_path / "small3.parquet"))
        third.start()
        third.join(0.3)
        assert third.is_alive()  # no room left: waits for the big one, still being written
        released.set()
        third.join(10)
        assert not third.is_alive()
    assert sorted(written) == ["big.parquet", "small.parquet", "small2.parquet", "small3.parquet"]


def test_pyarrow_reads_aware_datetimes_in_their_zone_once_pandera_is_imported():
    # pandera (imported by aggregator.validation, above) sets PYARROW_IGNORE_TIMEZONE for pyspark;
    # aggregator.validation unsets it.
    assert "PYARROW_IGNORE_TIMEZONE" not in os.environ
    ten_in_paris = dt.datetime(2026, 11, 3, 10, tzinfo=ZoneInfo("Europe/Paris"))
    assert pa.array([ten_in_paris])[0].as_py() == dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC)
