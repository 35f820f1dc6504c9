"""Keep values resolved from the environment out of every log line, error and output."""

from __future__ import annotations

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
