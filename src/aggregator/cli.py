"""Command line: ``aggregator run | validate | docs``."""

from __future__ import annotations

import importlib
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from aggregator.config import ConfigError, load_config

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_PARTIAL = 3

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
out = Console()
err = Console(stderr=True)

SourcesOpt = Annotated[Path, typer.Option("--sources", "-s", help="The sources file.")]


class Engine(StrEnum):
    """Where the stages run."""

    prefect = "prefect"
    local = "local"


def _load(path: Path) -> object:
    try:
        return load_config(path)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_CONFIG) from None


@app.command()
def validate(sources: SourcesOpt = Path("sources.yaml")) -> None:
    """Check a sources file and list its sources; exit 2 with a one-line error if it is invalid."""
    from aggregator.config import Config

    config = _load(sources)
    assert isinstance(config, Config)
    table = RichTable(title=f"{sources}: {len(config.sources)} sources")
    for column in ("id", "kind", "enabled", "priority", "url"):
        table.add_column(column)
    for s in config.sources:
        table.add_row(
            s.id,
            s.kind,
            "yes" if s.enabled else "no",
            str(s.priority),
            config.secrets.redact(s.url),
        )
    out.print(table)


@app.command()
def run(
    sources: SourcesOpt = Path("sources.yaml"),
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("data"),
    engine: Annotated[Engine, typer.Option(help="prefect: the nightly flow; local: in-process.")] = Engine.prefect,
) -> None:
    """Collect every enabled source, then normalise, deduplicate and publish under --out.

    Exit status: 0 success, 3 published but some sources failed, 1 nothing published, 2 bad config.
    """
    from aggregator.config import Config
    from aggregator.pipeline import run as run_local

    config = _load(sources)
    assert isinstance(config, Config)
    if engine is Engine.prefect:
        # The flow lives in flows/ (the orchestration edge); the library itself never imports Prefect.
        nightly = importlib.import_module("flows.nightly")
        report: dict[str, Any] = nightly.run_flow(sources, out_dir)
    else:
        report = run_local(config, out_dir, engine="local").to_dict(config.secrets)
    source_ids = {s["id"] for s in report["sources"]}
    for source in report["sources"]:
        if source["status"] == "failed":
            err.print(
                f"[yellow]source failed:[/yellow] {source['id']}: {source['error']}",
                highlight=False,
            )
    for error in report["errors"]:
        if error.split(":", 1)[0] not in source_ids:
            err.print(f"[red]error:[/red] {error}", highlight=False)
    if report["status"] == "failed":
        err.print(f"[red]run failed[/red]; see {out_dir / 'run.json'}")
        raise typer.Exit(EXIT_FAILED)
    out.print(
        f"Sorties dans {out_dir.resolve()}/ : events.parquet, listings.parquet, rejects.parquet, "
        "stats/, totals.json, totals.md, run.json",
        highlight=False,
        soft_wrap=True,
    )
    out.print(report["headline"], highlight=False, soft_wrap=True)
    if report["status"] == "partial":
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def docs(
    check: Annotated[bool, typer.Option(help="Exit 1 if the file is stale instead of writing it.")] = False,
    path: Annotated[Path, typer.Option(help="Where the data dictionary goes.")] = Path("docs/data-dictionary.md"),
) -> None:
    """Regenerate the data dictionary from the schema."""
    from aggregator.dictionary import render

    text = render()
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            err.print(f"{path} is stale: run `aggregator docs`")
            raise typer.Exit(EXIT_FAILED)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    out.print(f"wrote {path}")


def main() -> None:
    """Entry point of the ``aggregator`` command."""
    sys.exit(app())


if __name__ == "__main__":
    main()
