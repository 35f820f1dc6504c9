"""Keep values resolved from the environment out of every log line, error and output."""

from __future__ import annotations

import logging

MASK = "***"


class Secrets:
    """The set of secret values seen while loading the config, and a redactor for text."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: str) -> None:
        """Remember ``value`` as secret; very short values are ignored to avoid masking common text."""
        if len(value) >= 4:
            self._values.add(value)

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret value replaced by ``***``."""
        # Longest first, so that a secret containing another is masked whole.
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

    def contains(self, text: str) -> bool:
        """Whether ``text`` holds any secret value."""
        return any(value in text for value in self._values)

    def __repr__(self) -> str:
        return f"Secrets({len(self._values)} values)"

    def __len__(self) -> int:
        return len(self._values)


class MaskingFilter(logging.Filter):
    """A logging filter that masks secrets in a record's message (arguments merged in) and traceback."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record with its secrets masked; never drops it."""
        if not len(self.secrets):
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        masked = self.secrets.redact(message)
        if masked != message or (record.exc_text and self.secrets.contains(record.exc_text)):
            record.msg, record.args = masked, None
            record.exc_text = self.secrets.redact(record.exc_text) if record.exc_text else record.exc_text
            record.exc_info = None  # the formatted, masked text stands for it
        return True


def mask_logs(secrets: Secrets) -> MaskingFilter:
    """Install a ``MaskingFilter`` on every handler of every logger there is now (Prefect's included).

    Handlers, not loggers: a record logged by a child logger reaches its parents' handlers without
    passing their loggers' filters. Returns the filter (installed once per handler).
    """
    masking = MaskingFilter(secrets)
    loggers = [
        logging.getLogger(),
        *(v for v in logging.Logger.manager.loggerDict.values() if isinstance(v, logging.Logger)),
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(masking)
    return masking
