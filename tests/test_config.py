from pathlib import Path

import pytest

from aggregator.config import ConfigError, load_config, parse_config
from aggregator.sources.html import HtmlSource
from aggregator.sources.json_api import JsonSource


def _parse(data: object, env: dict[str, str] | None = None):
    return parse_config(data, Path("sources.yaml"), env or {})


def test_minimal_ical_source_needs_only_id_kind_url():
    config = _parse({"sources": [{"id": "lab", "kind": "ical", "url": "https://lab.example.org/agenda.ics"}]})
    (source,) = config.sources
    assert (source.id, source.kind, source.enabled, source.priority, source.timezone) == (
        "lab",
        "ical",
        True,
        50,
        "Europe/Paris",
    )


def test_defaults_are_merged_and_sources_override_them():
    config = _parse(
        {
            "defaults": {"priority": 70, "http": {"timeout_s": 5}},
            "sources": [
                {"id": "a", "kind": "ical", "url": "a.ics"},
                {"id": "b", "kind": "ical", "url": "b.ics", "priority": 10, "http": {"retries": 0}},
            ],
        }
    )
    a, b = config.sources
    assert (a.priority, a.http.timeout_s) == (70, 5)
    assert (b.priority, b.http.timeout_s, b.http.retries) == (10, 5, 0)


def test_kind_specific_settings_are_typed():
    config = _parse(
        {
            "sources": [
                {
                    "id": "h",
                    "kind": "html",
                    "url": "x.html",
                    "item": "li",
                    "fields": {"title": "h2"},
                },
                {
                    "id": "j",
                    "kind": "json",
                    "url": "x.json",
                    "records": "data",
                    "next": "links.next",
                },
            ]
        }
    )
    assert isinstance(config.sources[0], HtmlSource)
    assert isinstance(config.sources[1], JsonSource)
    assert config.sources[1].next == "links.next"


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (
            [{"id": "a", "kind": "xml", "url": "u"}],
            "sources[0] (id=a).kind: unknown kind 'xml' (valid kinds: csv, datatourisme, feed, html, ical, json, jsonld, openagenda, opendatasoft)",
        ),
        ([{"id": "a", "kind": "ical"}], "sources[0] (id=a).url: Field required"),
        (
            [{"id": "Bad Id!", "kind": "ical", "url": "u"}],
            "sources[0] (id=Bad Id!).id: 'Bad Id!' is not a slug",
        ),
        (
            [{"id": "a", "kind": "ical", "url": "u"}, {"id": "a", "kind": "ical", "url": "v"}],
            "sources[1] (id=a).id: duplicate id 'a' (first used by sources[0])",
        ),
        (
            [{"id": "a", "kind": "ical", "url": "ftp://x/y"}],
            "sources[0] (id=a).url: scheme 'ftp'",
        ),
        (
            [{"id": "a", "kind": "ical", "url": "u", "colour": "red"}],
            "sources[0] (id=a).colour: unknown key (valid keys: ",
        ),
        (
            [{"id": "a", "kind": "html", "url": "u", "item": "li", "fields": {"titel": "h2"}}],
            "fields: unknown field 'titel'",
        ),
        (
            [{"id": "a", "kind": "ical", "url": "u", "timezone": "Europe/Pariss"}],
            "timezone: unknown time zone 'Europe/Pariss' (an IANA name, e.g. Europe/Paris)",
        ),
        # A typo is named as such, with the key it was meant to be, before the field it left missing.
        ([{"id": "a", "kind": "ical", "ulr": "u"}], "sources[0] (id=a).ulr: unknown key (did you mean 'url'?)"),
        (
            [{"id": "a", "kind": "html", "url": "u", "item": "li", "feilds": {"title": "h2"}}],
            "sources[0] (id=a).feilds: unknown key (did you mean 'fields'?)",
        ),
        (
            [{"id": "a", "kind": "ical", "url": "u", "timezon": "Europe/Paris"}],
            "sources[0] (id=a).timezon: unknown key (did you mean 'timezone'?)",
        ),
        (
            [{"id": "a", "kind": "ical", "url": "u", "http": {"timeout": 3}}],
            "sources[0] (id=a).http.timeout: unknown key (did you mean 'timeout_s'?)",
        ),
        # Territories are checked against the reference tables.
        (
            [{"id": "a", "kind": "ical", "url": "u", "departement": "750"}],
            "sources[0] (id=a).departement: '750' is not a département code or name",
        ),
        (
            [{"id": "a", "kind": "ical", "url": "u", "region": "Bretonnie"}],
            "sources[0] (id=a).region: 'Bretonnie' is not a region code or name",
        ),
        (
            [{"id": "a", "kind": "ical", "url": "u", "http": {"timeout_s": -1}}],
            "sources[0] (id=a).http.timeout_s: Input should be greater than 0",
        ),
    ],
)
def test_errors_name_the_file_source_and_field(sources, expected):
    with pytest.raises(ConfigError) as info:
        _parse({"sources": sources})
    message = str(info.value)
    assert message.startswith("sources.yaml: ")
    assert expected in message
    assert "\n" not in message


def test_missing_kind_lists_valid_kinds():
    with pytest.raises(
        ConfigError,
        match=r"sources\[0\] \(id=a\)\.kind: field required \(valid kinds: csv, datatourisme, feed, html, ical, json, jsonld, openagenda, opendatasoft\)",
    ):
        _parse({"sources": [{"id": "a", "url": "u"}]})


def test_env_references_are_resolved_and_remembered_as_secrets():
    config = _parse(
        {"sources": [{"id": "a", "kind": "ical", "url": "https://x.example.org/cal.ics?key=${CAL_KEY}"}]},
        env={"CAL_KEY": "s3cr3t-value"},
    )
    assert config.sources[0].url.endswith("key=s3cr3t-value")
    assert config.secrets.redact(f"failed: {config.sources[0].url}") == "failed: https://x.example.org/cal.ics?key=***"
    assert "s3cr3t" not in repr(config.secrets)


def test_missing_env_variable_is_named_but_no_value_printed():
    with pytest.raises(
        ConfigError,
        match=r"sources\[0\] \(id=a\)\.http\.headers\.Authorization: environment variable TOKEN is not set",
    ):
        _parse(
            {
                "sources": [
                    {
                        "id": "a",
                        "kind": "ical",
                        "url": "u",
                        "http": {"headers": {"Authorization": "Bearer ${TOKEN}"}},
                    }
                ]
            }
        )


def test_secret_in_an_invalid_field_is_not_echoed():
    with pytest.raises(ConfigError) as info:
        _parse(
            {"sources": [{"id": "a", "kind": "ical", "url": "u", "priority": "${PRIO}"}]},
            env={"PRIO": "topsecret99"},
        )
    assert "topsecret99" not in str(info.value)
    assert "priority" in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources: [\n  - id: a\n  kind", "not valid YAML"),
        ("[]", "expected a mapping"),
        ("sources: []", "sources: expected a non-empty list"),
        ("source:\n  - id: a", "source: unknown key \\(did you mean 'sources'\\?\\)"),
        ("sources: [{id: a, kind: ical, url: u}]\nrun: {concurency: 3}", "run.concurency: unknown key \\(did you mean"),
        (
            "sources: [{id: a, kind: ical, url: u}]\nrun: {schedule: {cron: '0 25 * * *'}}",
            "run.schedule.cron: '0 25 \\* \\* \\*' is not a cron expression",
        ),
        (
            "sources: [{id: a, kind: ical, url: u}]\nrun: {schedule: {timezone: Europe/Pariss}}",
            "run.schedule.timezone: unknown time zone",
        ),
        ("defaults: {timezon: UTC}\nsources: [{id: a, kind: ical, url: u}]", "did you mean 'timezone'"),
        (
            "defaults: {id: x}\nsources: [{id: a, kind: ical, url: u}]",
            "defaults.id: not a shared setting",
        ),
    ],
)
def test_file_level_errors(tmp_path, text, expected):
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


def test_bundled_sources_file_is_valid():
    config = load_config(Path(__file__).resolve().parent.parent / "sources.yaml")
    from aggregator.sources import KINDS

    assert {s.kind for s in config.sources} == set(KINDS)  # one bundled sample of every kind


# --- YAML read safely ------------------------------------------------------------------------


def _bomb(indent: str, levels: int = 9) -> str:
    """Nested anchors and aliases that expand to 10**levels values (a "billion laughs")."""
    lines = [f"{indent}l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{indent}l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A second 'sources:' list would silently drop the first.
        (
            "sources:\n  - {id: a, kind: ical, url: u}\nsources:\n  - {id: b, kind: ical, url: v}\n",
            r"line 3, column 1: duplicate key 'sources' \(first at line 1, column 1\)",
        ),
        (
            "sources:\n  - id: a\n    kind: ical\n    url: u\n    url: v\n",
            r"line 5, column 5: duplicate key 'url' \(first at line 4, column 5\)",
        ),
        ("sources:\n  - id: a\n    kind: ical\n    url: u\n    bomb:\n" + _bomb("      "), "expands to more than"),
        ("defaults:\n  http:\n    headers:\n" + _bomb("      ") + "sources: []\n", "expands to more than"),
        ("sources: &s [*s]\n", "expands to more than"),  # an alias of itself
        ("sources:\n  - {id: a, kind: ical\n", r"line 3, column 1: not valid YAML"),
    ],
)
def test_yaml_is_read_safely_with_line_and_column(tmp_path, text, expected):
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_yaml_merge_keys_still_share_settings(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(
        "defaults: {http: &polite {min_interval_s: 5, retries: 1}}\n"
        "sources:\n  - {id: a, kind: ical, url: u, http: {<<: *polite, retries: 2}}\n"
    )
    http = load_config(path).sources[0].http
    assert (http.min_interval_s, http.retries) == (5, 2)  # merged, and an explicit key overrides the merge
