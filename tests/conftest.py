"""Shared test helpers: fixture paths, a local HTTP server serving recorded pages, the shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"


def fixture_bytes(kind: str, name: str) -> bytes:
    """Bytes of a recorded page under tests/fixtures/<kind>/."""
    return (FIXTURES / kind / name).read_bytes()


@pytest.fixture
def shared_dir() -> Path:
    """../shared, or a skip with the reason when this checkout has no copy beside it."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared is absent: tests on the shared reference data are skipped")
    return SHARED


def write_config(tmp_path: Path, text: str) -> Path:
    """Write a sources.yaml in ``tmp_path`` and return its path."""
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for the whole session (each start costs seconds)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield
