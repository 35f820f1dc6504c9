"""Ending a command once every exit handler has run, without the interpreter's teardown."""

from __future__ import annotations

import atexit
import logging
import os
import sys


class LastExit:
    """An exit handler, registered when made, that ends the process with ``code`` once the others have run.

    Exit handlers run last registered first, so one made at a program's start runs last: by then the
    background threads have been joined (Prefect's services drained) and every other handler has run
    (servers, helper and worker processes stopped; temporary files removed). What Python would do
    next, free every module's objects one by one, takes about half a second after a run and leaves
    nothing behind, so the process ends there: logging and the standard streams are flushed first.
    With no ``code`` set (the program raised, or was interrupted), Python ends as usual.
    """

    def __init__(self) -> None:
        """Register the handler; set ``code`` once the program's status is known."""
        self.code: int | None = None
        atexit.register(self._end)

    def _end(self) -> None:
        if self.code is None:
            return
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(self.code)
