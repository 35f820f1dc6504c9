"""What the command line prints: tables that survive a pipe, a run's sources, its outcome and exit status."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_PARTIAL = 3
EXIT_BUSY = 4

out = Console()
err = Console(stderr=True)


def print_table(table: RichTable) -> None:
    """Print ``table`` on stdout: boxed for a terminal; plain, aligned and never cut in a pipe or a file.

    Piped into a log or a cron mail, a terminal's table would fall back to 80 columns and cut
    source names; there, every cell is printed whole, without colours.
    """
    if out.is_terminal:
        out.print(table)
        return
    table.box = None
    table.title_justify = "left"
    plain = Console(width=100_000, no_color=True, highlight=False, soft_wrap=True)
    with plain.capture() as captured:
        plain.print(table)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def sources_table(report: dict[str, Any]) -> RichTable:
    """One row per source of ``report`` (run.json's dict): status, counts, HTTP, time and its note."""
    table = RichTable(title="Sources")
    for column in ("source", "status", "items", "listings", "rejects", "HTTP", "requests", "cache", "time", "note"):
        table.add_column(column, justify="right" if column not in ("source", "status", "note") else "left")
    colours = {"ok": "green", "failed": "red", "broken": "yellow"}
    for s in report["sources"]:
        note = s.get("alarm") or s.get("error") or ""
        if s.get("stale_since"):
            note = f"{note}; stale since {s['stale_since'][:16]} ({s.get('stale_listings', 0)} kept)".lstrip("; ")
        table.add_row(
            s["id"],
            f"[{colours.get(s['status'], 'white')}]{s['status']}[/]",
            str(s["records"]),
            str(s["listings"]),
            str(s["rejects"]),
            str(s.get("http_status") or "-"),
            str(s.get("requests", 0)),
            str(s.get("cache_hits", 0)),
            f"{s['duration_s']:.1f} s",
            note,
        )
    return table


def crashed(exc: Exception, secrets: Any, verbose: bool) -> None:
    """One line for a run that ended without its report (busy output, unreadable history, a crash); exit."""
    from aggregator.lock import OutputLockedError

    if verbose:
        import traceback

        err.print(secrets.redact("".join(traceback.format_exception(exc))), highlight=False, markup=False)
    message = secrets.redact(str(exc) if known(exc) else f"{type(exc).__name__}: {exc}")
    if isinstance(exc, OutputLockedError):
        err.print(f"[yellow]busy:[/yellow] {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BUSY) from None
    err.print(f"[red]run failed:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_FAILED) from None


def known(exc: Exception) -> bool:
    """Errors whose message is a whole sentence for the operator (no need for the exception's name)."""
    return type(exc).__name__ in ("OutputLockedError", "HistoryUnreadableError", "RunCrashedError")


def report_run(report: dict[str, Any], out_dir: str, quiet: bool, verbose: bool, as_json: bool) -> None:
    """Tell what the run did (table, warnings, where the outputs are), then exit with its status."""
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    elif not quiet:
        print_table(sources_table(report))
    source_ids = {s["id"] for s in report["sources"]}
    if not quiet:
        for warning in report["warnings"]:
            if verbose or warning.startswith("source "):
                err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)
    for error in report["errors"]:
        if error.split(":", 1)[0] not in source_ids:
            err.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
    if report["status"] == "failed":
        err.print(f"[red]run failed[/red]; see run.json in {out_dir}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILED)
    if not quiet and not as_json:
        where = out_dir if "://" in out_dir else str(Path(out_dir).resolve())
        from aggregator.run_report import outputs_sentence  # deferred, like every heavy import of the CLI

        people_files = "://" in out_dir or (Path(out_dir) / "latest" / "events.xlsx").exists()
        out.print(outputs_sentence(where, people_files), highlight=False, soft_wrap=True)
        out.print(report["headline"], highlight=False, soft_wrap=True)
    if report["status"] == "partial":
        if not quiet:
            err.print("[yellow]published with warnings[/yellow]: some sources are stale (exit 3)")
        raise typer.Exit(EXIT_PARTIAL)
