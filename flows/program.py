"""The program ``aggregator run`` starts: the nightly flow, with Prefect's temporary server started first."""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """``python flows/program.py SOURCES OUT RUN_ID [--reset-history]``: ``flows.nightly.main``, sooner.

    With no Prefect server configured, the temporary server Prefect would start at the flow's first
    API call is launched first, before Prefect itself is imported (``TemporaryServer``), so that
    its start-up (seconds) and the program's imports (seconds) overlap; it is stopped at once if
    Prefect's settings, read next, configure a server after all. If it does not come up, it is stopped
    and Prefect starts its own as before, and reports its own error if that fails too.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import flows  # noqa: F401  (Prefect's defaults for this project, set before any setting is read)
    from flows.temporary_server import TemporaryServer

    server = TemporaryServer.launch()  # before Prefect is imported: a second sooner
    if server is not None and not server.keep_if_prefect_would_start_one():
        server = None
    from flows.nightly import main as nightly  # Prefect's flow machinery and the library: seconds

    if server is None:
        return nightly(argv)
    if not server.ready():
        server.stop()  # ready() said why; Prefect starts its own, as it would have
        return nightly(argv)
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    # No UI URL, as with Prefect's own temporary server: this one serves no UI and ends with the
    # program, so the "View at" link Prefect would derive from the API URL would lead nowhere.
    with temporary_settings({PREFECT_API_URL: server.api_url, PREFECT_UI_URL: ""}):
        return nightly(argv)


if __name__ == "__main__":
    from aggregator.exiting import LastExit

    ending = LastExit()  # first, before any import registers its own exit handler: it runs last
    ending.code = main(sys.argv[1:])
    sys.exit(ending.code)
