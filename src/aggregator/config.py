"""Load and validate ``sources.yaml`` into typed models, resolving ``${ENV}`` secrets."""

from __future__ import annotations

import difflib
import os
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aggregator.secrets import Secrets
from aggregator.settings import DedupeSettings, RunSettings, SourceConfig
from aggregator.sources import KINDS
from aggregator.yamlfile import YamlError, load_yaml

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
TOP_LEVEL = {"defaults", "sources", "dedupe", "run"}


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


def _fields_at(model: type[BaseModel], path: tuple[int | str, ...]) -> list[str]:
    """The setting names of the model found at ``path`` inside ``model`` (list indexes skipped)."""
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        nested = [
            t for t in (typing.get_args(field.annotation) or (field.annotation,))
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]  # fmt: skip
        if not nested:
            return []
        model = nested[0]
    return list(model.model_fields)


def unknown_key(key: str, known: list[str] | set[str]) -> str:
    """The words "unknown key", with the closest valid name as a suggestion, or the valid names when none is close."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    if close:
        return f"unknown key (did you mean {close[0]!r}?)"
    return f"unknown key (valid keys: {', '.join(sorted(known))})"


def _problem(exc: ValidationError, model: type[BaseModel], secrets: Secrets) -> tuple[str, str]:
    """The field path and message of the error to report first: an unknown key before what it hides.

    A typo (``ulr:``) makes two errors, the unknown key and the field it left missing; naming the
    typo is what helps.
    """
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    err = errors[0]
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        message = unknown_key(str(loc[-1]), _fields_at(model, loc[:-1]))
    else:
        message = secrets.redact(str(err["msg"]).removeprefix("Value error, "))
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return _format_loc("", loc), message + more


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


# Query parameters and headers whose value is a credential even when written in the file itself.
SECRET_NAMES = re.compile(
    r"^(x-)?(api[-_]?key|apikey|key|token|access[-_]?token|auth|authorization|secret|client[-_]?secret|"
    r"password|passwd|pwd|signature|sig)$",
    re.IGNORECASE,
)


def _secrets_written_out(source: SourceConfig, secrets: Secrets) -> None:
    """Treat as secrets the values of credential-named URL parameters and headers (``?key=…``).

    ``${VAR}`` values are secrets already; a key pasted into the URL is one too, and must be
    masked in outputs, logs and errors alike.
    """
    for name, value in parse_qsl(urlparse(source.url).query, keep_blank_values=False):
        if SECRET_NAMES.match(name):
            secrets.add(value)
    for name, value in source.http.headers.items():
        if SECRET_NAMES.match(name):
            secrets.add(value.split(" ", 1)[-1])  # "Bearer abc…": the token


def _territory_problem(source: SourceConfig) -> str | None:
    """What is wrong with a source's ``region`` or ``departement``: neither a code nor a name of the COG."""
    # Reference data: loaded lazily, when a source names a territory.
    from aggregator.normalise.territory_text import departement_from_text, region_from_text

    if source.departement is not None and departement_from_text(source.departement) is None:
        return f"departement: {source.departement!r} is not a département code or name (e.g. 33, 2A, 974, Gironde)"
    if source.region is not None and region_from_text(source.region)[0] is None:
        return f"region: {source.region!r} is not a region code or name (e.g. 75, Nouvelle-Aquitaine)"
    return None


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
    unknown = set(data) - TOP_LEVEL
    if unknown:
        key = sorted(unknown, key=str)[0]
        raise ConfigError(f"{where}: {key}: {unknown_key(str(key), TOP_LEVEL)}")
    secrets = Secrets()
    try:
        dedupe = DedupeSettings.model_validate(data.get("dedupe") or {})
    except ValidationError as exc:
        field, message = _problem(exc, DedupeSettings, secrets)
        raise ConfigError(f"{where}: dedupe.{field}: {message}") from None
    try:
        run = RunSettings.model_validate(data.get("run") or {})
    except ValidationError as exc:
        field, message = _problem(exc, RunSettings, secrets)
        raise ConfigError(f"{where}: run.{field}: {message}") from None
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{where}: defaults: expected a mapping")
    allowed_defaults = set(SourceConfig.model_fields) - {"id", "kind", "url", "name"}
    for key in defaults:
        if key not in allowed_defaults:
            close = difflib.get_close_matches(str(key), sorted(allowed_defaults), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"{where}: defaults.{key}: not a shared setting ({hint}allowed: {', '.join(sorted(allowed_defaults))})"
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
            field, message = _problem(exc, model, secrets)
            raise ConfigError(f"{where}: {loc}.{field}: {message}") from None
        territory = _territory_problem(source)
        if territory:
            raise ConfigError(f"{where}: {loc}.{territory}")
        _secrets_written_out(source, secrets)
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
        data = load_yaml(text)
    except YamlError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse_config(data, path, env)
