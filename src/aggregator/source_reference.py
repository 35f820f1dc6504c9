"""The settings reference of every source kind (docs/source-kinds.md), generated from the settings models."""

from __future__ import annotations

import inspect
import re
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from aggregator.settings import DedupeSettings, HttpSettings, RunSettings, ScheduleSettings, SourceConfig
from aggregator.sources import KINDS


def _default(field: Any) -> str:
    if isinstance(field.default, BaseModel) or field.default_factory in (HttpSettings, ScheduleSettings):
        return "see below"
    if field.default_factory is not None:
        value = field.default_factory()
        return f"`{value!r}`" if value not in ({}, [], None) else "empty"
    if field.default is PydanticUndefined:
        return "**required**"
    return f"`{field.default!r}`"


def _type(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    text = re.sub(r"\b(?:typing|datetime|aggregator(?:\.\w+)*)\.", "", text)
    return text.replace("|", "or")


def _table(model: type[BaseModel], skip: set[str]) -> list[str]:
    lines = ["| setting | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        meaning = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | `{_type(field.annotation)}` | {_default(field)} | {meaning} |")
    return lines


def render() -> str:
    """The Markdown reference: common settings, HTTP settings, each kind's own, then the run's and dedup's."""
    common = set(SourceConfig.model_fields)
    lines = [
        "# Source kinds: settings reference",
        "",
        "Generated from `src/aggregator/settings.py` and the adapters' settings models by `aggregator docs`;",
        "do not edit by hand. A test fails when this file is stale. What each kind reads, with real",
        "examples, is in [sources.md](sources.md).",
        "",
        "## Every source",
        "",
        *_table(SourceConfig, {"kind"}),
        "",
        "## `http:` (per source, or in `defaults:`)",
        "",
        *_table(HttpSettings, set()),
        "",
    ]
    for kind, adapter in sorted(KINDS.items()):
        model = adapter.settings
        doc = inspect.getdoc(model) or ""
        lines += [f"## `kind: {kind}`", "", doc, ""]
        own = [
            n
            for n in model.model_fields
            if n not in common or (n == "url" and model.model_fields[n].default is not PydanticUndefined)
        ]
        if own:
            lines += [*_table(model, set(model.model_fields) - set(own)), ""]
        else:
            lines += ["No settings of its own.", ""]
        for name in own:
            for nested in _nested_models(model.model_fields[name].annotation):
                lines += [f"### `{name}:` of `kind: {kind}`", "", *_table(nested, set()), ""]
    lines += [
        "## `run:` (how a run fetches, judges health, locks its output)",
        "",
        *_table(RunSettings, set()),
        "",
        "### `schedule:` of `run:`",
        "",
        *_table(ScheduleSettings, set()),
        "",
        "## `dedupe:`",
        "",
        *_table(DedupeSettings, set()),
        "",
    ]
    return "\n".join(lines)


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    """Settings models inside an annotation such as ``DetailSettings | None``."""
    found = [a for a in getattr(annotation, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.append(annotation)
    return found
