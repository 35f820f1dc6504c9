"""Command line: aggregator run, validate, sources check, serve, docs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from aggregator.cli_output import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_PARTIAL,
    crashed,
    err,
    out,
    print_table,
    report_run,
)
from aggregator.exiting import LastExit

HELP = """Collect the innovation month's events from the sources of a sources file, and publish them.

Start with: aggregator validate, then aggregator run. Exit statuses: 0 success, 3 published with
warnings, 1 failed, 2 bad configuration.
"""

app = typer.Typer(add_completion=False, no_args_is_help=True, help=HELP, rich_markup_mode="markdown")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"aggregator {version('aggregator')}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Collect the innovation month's events from the sources of a sources file, and publish them."""


SourcesOpt = Annotated[Path, typer.Option("--sources", "-s", help="The sources file.")]


class Engine(StrEnum):
    """Where the stages run."""

    prefect = "prefect"
    local = "local"


def _load(path: Path) -> object:
    # Imported here: the config pulls in every adapter and the HTTP stack, which `--help` does not need.
    from aggregator.config import ConfigError, load_config

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
    print_table(table)


def _run_local(config: Any, out_dir: str, progress_bar: bool, verbose: bool, reset_history: bool) -> dict[str, Any]:
    """The in-process run: a live progress bar per source on a terminal, a line per source when verbose."""
    from aggregator.collection import SourceResult, in_threads
    from aggregator.pipeline import Executor
    from aggregator.pipeline import run as run_local

    if not progress_bar:

        def line(source: Any, outcome: Any) -> None:
            what = f"{len(outcome.records)} items" if isinstance(outcome, SourceResult) else "failed"
            err.print(f"{source.id} ({source.kind}): {what}", highlight=False, soft_wrap=True)

        executor = Executor(
            engine="local", collect_many=in_threads(config.run.concurrency, None, line if verbose else None)
        )
        return run_local(config, out_dir, executor, reset_history=reset_history).to_dict(config.secrets)

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        overall = progress.add_task("sources", total=len(config.enabled_sources))
        rows = {s.id: progress.add_task(f"  {s.id} ({s.kind}) waiting", total=1) for s in config.enabled_sources}

        def started(source: Any) -> None:
            progress.update(rows[source.id], description=f"  {source.id} ({source.kind}) fetching")

        def done(source: Any, outcome: Any) -> None:
            what = f"{len(outcome.records)} items" if isinstance(outcome, SourceResult) else "FAILED"
            progress.update(rows[source.id], completed=1, description=f"  {source.id}: {what}")
            progress.advance(overall)

        executor = Executor(engine="local", collect_many=in_threads(config.run.concurrency, started, done))
        report = run_local(config, out_dir, executor, reset_history=reset_history)
    return report.to_dict(config.secrets)


def _flow_program(name: str) -> Path:
    """The program ``flows/<name>.py`` of the project folder, which the CLI runs (it never imports it).

    The Prefect code is not installed with the library (a package named ``flows`` would collide
    with others): it runs from the project's checkout, where ``make`` installs the library.
    """
    program = Path(__file__).resolve().parents[2] / "flows" / f"{name}.py"
    if not program.is_file():
        err.print(
            f"[red]error:[/red] the Prefect flows are not beside this installation ({program.parent}): "
            "run from the project's checkout, or use --engine local",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_CONFIG)
    return program


def _start_flow(sources: Path, out_dir: str, reset_history: bool) -> tuple[subprocess.Popen[str], str]:
    """Start the nightly flow as a program (``flows/program.py``) under a run id chosen here.

    Started before the CLI reads the sources file: the program's imports (Prefect and the library,
    seconds), and Prefect's temporary server when no server is configured, then start on the other
    core while the CLI checks the file, which the program reads and checks again itself (a
    scheduled run has only its path). Prefect's log lines go to stderr as they come; the program's
    last line on stdout says how the run ended (``flows.nightly.main``).

    Returns:
        The program's process, and the run's id.
    """
    from aggregator.lock import new_run_id

    run_id = new_run_id()
    command = [sys.executable, str(_flow_program("program")), str(sources), out_dir, run_id]
    proc = subprocess.Popen(
        [*command, *(["--reset-history"] if reset_history else [])], stdout=subprocess.PIPE, text=True
    )
    return proc, run_id


def _finish_flow(proc: subprocess.Popen[str], run_id: str, out_dir: str) -> dict[str, Any]:
    """Wait for the flow's program (``_start_flow``) and return the run's own report.

    Raises:
        OutputLockedError: When another run holds the output.
        HistoryUnreadableError: When no earlier run can be read.
        RunCrashedError: When the program ended without the run's report.
    """
    from aggregator.lock import OutputLockedError
    from aggregator.run_report import RunCrashedError
    from aggregator.state import HistoryUnreadableError
    from aggregator.storage import own_report

    stdout, _ = proc.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    try:
        outcome = json.loads(lines[-1]) if lines else {}
    except ValueError:
        outcome = {}
    report = own_report(out_dir, run_id)
    if report is not None:
        return report
    errors: dict[str, type[Exception]] = {"locked": OutputLockedError, "history": HistoryUnreadableError}
    message = str(outcome.get("message") or f"the flow's process ended with status {proc.returncode}")
    raise errors.get(str(outcome.get("error")), RunCrashedError)(message)


@app.command()
def run(
    sources: SourcesOpt = Path("sources.yaml"),
    out_dir: Annotated[str, typer.Option("--out", "-o", help="Output folder, or an fsspec URL (s3://…).")] = "data",
    engine: Annotated[Engine, typer.Option(help="prefect: the nightly flow; local: in-process.")] = Engine.prefect,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print errors only (the exit status tells the rest).")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print each source as it ends, every warning, and tracebacks.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run's report (run.json) on stdout, and nothing else there.")
    ] = False,
    reset_history: Annotated[
        bool,
        typer.Option(
            "--reset-history",
            help="Start a new history when no earlier run in --out can be read (every event new, nothing removed).",
        ),
    ] = False,
) -> None:
    """Collect every enabled source, then normalise, deduplicate and publish under --out.

    Exit status: **0** success, every source fresh; **3** published with warnings (some sources
    failed or looked broken: their last good data kept, flagged stale_since); **1** nothing
    published (or the run crashed, or the earlier runs cannot be read); **2** bad configuration;
    **4** another run holds --out.
    """
    flow: tuple[subprocess.Popen[str], str] | None = None
    if engine is Engine.prefect:
        if verbose:
            os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"  # read by the flow's process when it imports Prefect
        elif quiet:  # errors only, as promised, unless the environment asks for more
            os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
        # The flow lives in flows/ (the orchestration edge), run as a program: the library and the
        # CLI never import Prefect. Started first, so that its imports overlap the file's checks here.
        flow = _start_flow(sources, out_dir, reset_history)
    try:
        config = _load(sources)
    except BaseException:  # a bad file (exit 2, said here once) or an interrupt: the program is not needed
        if flow is not None:
            flow[0].kill()
            flow[0].communicate()
        raise
    from aggregator.config import Config  # after the flow's start: the config's imports take most of a second

    assert isinstance(config, Config)
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.getLogger("aggregator").addHandler(handler)
        logging.getLogger("aggregator").setLevel(logging.DEBUG)
        from aggregator.secrets import mask_logs

        mask_logs(config.secrets)
    interactive = err.is_terminal and not quiet
    try:
        if flow is not None:
            if interactive:
                with err.status(f"running the nightly flow on {len(config.enabled_sources)} sources (Prefect)"):
                    report: dict[str, Any] = _finish_flow(*flow, out_dir)
            else:
                report = _finish_flow(*flow, out_dir)
        else:
            report = _run_local(config, out_dir, interactive, verbose, reset_history)
    except Exception as exc:
        crashed(exc, config.secrets, verbose)
    report_run(report, out_dir, quiet, verbose, as_json)


sources_app = typer.Typer(no_args_is_help=True, help="Inspect the sources of a sources file.")
app.add_typer(sources_app, name="sources")


@sources_app.command("check")
def sources_check(
    sources: SourcesOpt = Path("sources.yaml"),
    only: Annotated[list[str] | None, typer.Option("--only", help="Check only these source ids.")] = None,
) -> None:
    """Fetch and parse each enabled source once (no cache, no state written) and print a table.

    Exit status: 0 every source gave items; 3 some failed or gave none; 1 all did; 2 bad config.
    """
    from aggregator.collection import collect_or_fail
    from aggregator.config import Config

    config = _load(sources)
    assert isinstance(config, Config)
    chosen = [s for s in config.enabled_sources if not only or s.id in only]
    unknown = set(only or ()) - {s.id for s in config.enabled_sources}
    if unknown:
        err.print(f"[red]error:[/red] no enabled source with id {', '.join(sorted(unknown))}")
        raise typer.Exit(EXIT_CONFIG)
    table = RichTable(title=f"{sources}: {len(chosen)} sources checked")
    for column in ("source", "kind", "status", "items", "rejected", "pages", "HTTP", "bytes", "time", "error"):
        table.add_column(column)
    bad = 0
    # A spinner for a terminal only: in a log it would print nothing useful.
    with (err if err.is_terminal else Console(quiet=True)).status("fetching…") as status:
        for source in chosen:
            status.update(f"fetching {source.id} ({source.kind})…")
            result = collect_or_fail(source, config.path, None)
            items = len(result.records)
            rejected = int(result.records["reject_reason"].notna().sum()) if items else 0
            state = result.status if items or result.status != "ok" else "empty"
            bad += state != "ok"
            colour = {"ok": "green", "empty": "yellow"}.get(state, "red")
            table.add_row(
                source.id, source.kind, f"[{colour}]{state}[/]", str(items), str(rejected), str(result.pages),
                str(result.http_status or "-"), f"{result.bytes:,}", f"{result.duration_s:.2f} s",
                config.secrets.redact(result.error or ""),
            )  # fmt: skip
    print_table(table)
    if bad:
        raise typer.Exit(EXIT_FAILED if bad == len(chosen) else EXIT_PARTIAL)


@app.command()
def serve(
    sources: SourcesOpt = Path("sources.yaml"),
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("data"),
    name: Annotated[str, typer.Option(help="Deployment name.")] = "nightly",
    cron: Annotated[str | None, typer.Option(help="Cron expression (default: run.schedule.cron).")] = None,
    timezone: Annotated[str | None, typer.Option(help="Time zone of the cron (default: run.schedule).")] = None,
) -> None:
    """Serve the nightly flow as a scheduled Prefect deployment (needs PREFECT_API_URL; see `make serve`)."""
    from aggregator.config import Config

    config = _load(sources)
    assert isinstance(config, Config)
    if not os.environ.get("PREFECT_API_URL"):
        err.print(
            "[red]error:[/red] PREFECT_API_URL is not set: start a server (`make serve` does, or "
            "`prefect server start`) and point PREFECT_API_URL at it, e.g. http://127.0.0.1:4200/api",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_CONFIG)
    program = _flow_program("serve")
    arguments = ["--sources", str(sources), "--out", str(out_dir), "--name", name]
    arguments += [*(["--cron", cron] if cron else []), *(["--timezone", timezone] if timezone else [])]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, str(program), *arguments])  # the server's process from here on


@app.command()
def docs(
    check: Annotated[bool, typer.Option(help="Exit 1 if a file is stale instead of writing it.")] = False,
    path: Annotated[Path, typer.Option(help="Where the data dictionary goes.")] = Path("docs/data-dictionary.md"),
    kinds_path: Annotated[Path, typer.Option(help="Where the source kinds' settings reference goes.")] = Path(
        "docs/source-kinds.md"
    ),
) -> None:
    """Regenerate the data dictionary (from the schema) and the source kinds' reference (from the settings models)."""
    from aggregator import dictionary, source_reference

    stale = []
    for target, text in ((path, dictionary.render()), (kinds_path, source_reference.render())):
        if check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        out.print(f"wrote {target}")
    if stale:
        for target in stale:
            err.print(f"{target} is stale: run `aggregator docs`", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED)


def main() -> None:
    """Entry point of the ``aggregator`` command: ends without the interpreter's teardown (``LastExit``)."""
    ending = LastExit()
    try:
        app()
    except SystemExit as exc:  # typer ends every command so; a message instead of a status: as usual
        if exc.code is None or isinstance(exc.code, int):
            ending.code = exc.code or 0
        raise


if __name__ == "__main__":
    main()
