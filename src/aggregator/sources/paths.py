"""Dotted paths into nested JSON ("location.city", "timings.0.begin") used by field mappings."""

from __future__ import annotations

from typing import Any

from aggregator.records import to_text

MISSING = object()


def get_path(data: Any, path: str) -> Any:
    """Return the value at a dotted ``path`` in ``data``, or None when any step is missing.

    An empty path returns ``data`` itself; integer steps index lists.
    """
    if path == "":
        return data
    current = data
    for step in path.split("."):
        if isinstance(current, dict):
            current = current.get(step, MISSING)
        elif isinstance(current, list) and step.lstrip("-").isdigit():
            index = int(step)
            current = current[index] if -len(current) <= index < len(current) else MISSING
        else:
            return None
        if current is MISSING:
            return None
    return current


def text_at(data: Any, path: str) -> str | None:
    """The value at ``path`` as text (see ``base.to_text``), or None."""
    return to_text(get_path(data, path))
