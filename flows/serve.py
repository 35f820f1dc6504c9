"""The nightly flow as a scheduled deployment, served against a running Prefect server."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from prefect import serve
from prefect.schedules import Cron

from aggregator.config import Config, ConfigError, load_config

if __package__ in (None, ""):  # run as a program (python flows/serve.py): the checkout's root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from flows.nightly import configured

DEPLOYMENT = "nightly"


def deployment(
    config: Config, out_dir: Path, name: str = DEPLOYMENT, cron: str | None = None, timezone: str | None = None
) -> Any:
    """The deployment of the nightly flow, with its schedule and a concurrency limit of 1.

    The schedule is ``run.schedule`` unless overridden; parameters are absolute paths; the limit
    of 1 means runs never overlap (a late run waits for the previous one).
    """
    schedule = config.run.schedule
    return configured(config).to_deployment(
        name=name,
        schedule=Cron(cron or schedule.cron, timezone=timezone or schedule.timezone),
        parameters={"sources": str(config.path.resolve()), "out": str(out_dir.resolve())},
        concurrency_limit=1,
        description="Nightly collection of the innovation-month events (aggregator).",
        tags=["aggregator", "nightly"],
    )


def serve_nightly(
    sources: Path, out_dir: Path, name: str = DEPLOYMENT, cron: str | None = None, timezone: str | None = None
) -> None:
    """Register the deployment and run its scheduled (and manually triggered) runs until stopped.

    Raises:
        RuntimeError: When ``PREFECT_API_URL`` names no server: a schedule needs a real one.
    """
    if not os.environ.get("PREFECT_API_URL"):
        raise RuntimeError(
            "PREFECT_API_URL is not set: start a server (`make serve` does, or `prefect server start`) "
            "and point PREFECT_API_URL at it, e.g. http://127.0.0.1:4200/api"
        )
    config = load_config(sources)
    serve(deployment(config, out_dir, name, cron, timezone), limit=1, print_starting_message=True)


def main(argv: list[str]) -> int:
    """``python flows/serve.py --sources F --out D [--name N] [--cron C] [--timezone Z]`` (``aggregator serve``)."""
    parser = argparse.ArgumentParser(prog="flows/serve.py", description=__doc__)
    parser.add_argument("--sources", type=Path, default=Path("sources.yaml"))
    parser.add_argument("--out", type=Path, default=Path("data"))
    parser.add_argument("--name", default=DEPLOYMENT)
    parser.add_argument("--cron")
    parser.add_argument("--timezone")
    args = parser.parse_args(argv)
    try:
        serve_nightly(args.sources, args.out, args.name, args.cron, args.timezone)
    except (RuntimeError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
