"""Load and validate ``sources.yaml`` into typed models, resolving ``${ENV}`` secrets."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aggregator.secrets import Secrets
from aggregator.settings import DedupeSettings, RunSettings, SourceConfig
from aggregator.sources import KINDS

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file and the field path."""


class Config(BaseModel):
    """A validated ``sources.yaml``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    path: Path
    sources: list[SourceConfig]
    dedupe: DedupeSettings = Field(default_factory=DedupeSettings)
    run: RunSettings = Field(default_factory=RunSettings)
    secrets: Secrets = Field(default_factory=Secrets, exclude=True, repr=False)

    @property
    def enabled_sources(self) -> list[SourceConfig]:
        """The sources to run, in file order."""
        return [s for s in self.sources if s.enabled]


def _resolve_env(value: Any, path: str, env: Mapping[str, str], secrets: Secrets) -> Any:
    """Replace ``${VAR}`` in every string of ``value``; remember resolved values as secrets."""
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError(f"{path}: environment variable {name} is not set")
            secrets.add(env[name])
            return env[name]

        return ENV_REF.sub(sub, value)
    if isinstance(value, list):
        return [_resolve_env(v, f"{path}[{i}]", env, secrets) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _resolve_env(v, f"{path}.{k}" if path else str(k), env, secrets) for k, v in value.items()}
    return value


def _format_loc(prefix: str, loc: tuple[int | str, ...]) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _merge(defaults: Mapping[str, Any], source: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in source.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_config(data: Any, path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Validate already-loaded YAML data.

    Args:
        data: The YAML document as Python objects.
        path: Where it came from; relative source paths are resolved against its folder.
        env: Environment used for ``${VAR}`` references (defaults to ``os.environ``).

    Returns:
        The validated configuration.

    Raises:
        ConfigError: With a one-line message ``file: sources[i] (id=x).field: problem``.
    """
    env = os.environ if env is None else env
    where = str(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with a 'sources:' list")
    unknown = set(data) - {"defaults", "sources", "dedupe", "run"}
    if unknown:
        raise ConfigError(
            f"{where}: {sorted(unknown)[0]}: unknown top-level key (expected defaults, sources, dedupe, run)"
        )
    try:
        dedupe = DedupeSettings.model_validate(data.get("dedupe") or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"{where}: dedupe.{_format_loc('', tuple(err['loc']))}: {err['msg']}") from None
    try:
        run = RunSettings.model_validate(data.get("run") or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"{where}: run.{_format_loc('', tuple(err['loc']))}: {err['msg']}") from None
    secrets = Secrets()
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{where}: defaults: expected a mapping")
    allowed_defaults = set(SourceConfig.model_fields) - {"id", "kind", "url", "name"}
    for key in defaults:
        if key not in allowed_defaults:
            raise ConfigError(
                f"{where}: defaults.{key}: not a shared setting (allowed: {', '.join(sorted(allowed_defaults))})"
            )
    defaults = _resolve_env(defaults, "defaults", env, secrets)
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise ConfigError(f"{where}: sources: expected a non-empty list of sources")

    sources: list[SourceConfig] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_sources):
        loc = f"sources[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: {loc}: expected a mapping")
        if "id" in raw:
            loc += f" (id={raw['id']})"
        try:
            raw = _resolve_env(raw, "", env, secrets)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {loc}.{exc}") from None
        kind = raw.get("kind")
        if kind is None:
            raise ConfigError(f"{where}: {loc}.kind: field required (valid kinds: {', '.join(sorted(KINDS))})")
        if kind not in KINDS:
            raise ConfigError(f"{where}: {loc}.kind: unknown kind {kind!r} (valid kinds: {', '.join(sorted(KINDS))})")
        model = KINDS[kind].settings
        try:
            source = model.model_validate(_merge(defaults, raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = _format_loc("", tuple(err["loc"]))
            msg = secrets.redact(str(err["msg"]))
            more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
            raise ConfigError(f"{where}: {loc}.{field}: {msg}{more}") from None
        if source.id in seen:
            raise ConfigError(
                f"{where}: {loc}.id: duplicate id {source.id!r} (first used by sources[{seen[source.id]}])"
            )
        seen[source.id] = i
        sources.append(source)
    return Config(path=path, sources=sources, secrets=secrets, dedupe=dedupe, run=run)


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a ``sources.yaml`` file.

    Args:
        path: The YAML file.
        env: Environment used for ``${VAR}`` references (defaults to ``os.environ``).

    Raises:
        ConfigError: When the file is missing, is not YAML, or does not validate.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{at} not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return parse_config(data, path, env)
