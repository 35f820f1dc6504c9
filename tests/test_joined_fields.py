"""Fields joined from several columns, paths or selectors, and the date-alone fallback."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from aggregator.config import ConfigError, parse_config
from aggregator.normalise import normalise
from aggregator.sources import get_adapter

REF = date(2013, 3, 1)

# The shape of a real city agenda: the day in one column, the times in free text in another.
CITY_CSV = """Titre;Date;Horaires;Lieu
Atelier du mercredi;15/03/2013;Tous les mercredis et le 1er dimanche de 14h à 17h;Médiathèque
Concert;16/03/2013;20h30;Salle des fêtes
Visite;17/03/2013;;Musée
Conférence;18/03/2013;de 18h à 19h30;Mairie
"""


def _run(source_fields, body, content_type, **extra):
    config = parse_config(
        {"sources": [{"id": "s", "url": "x", "reference_date": "2013-03-01", **source_fields}]},
        Path("sources.yaml"),
        {},
    )
    source = config.sources[0]
    adapter = get_adapter(source.kind)
    from aggregator.http import Fetched

    records = adapter.parse(Fetched("https://example.org/agenda", body.encode(), 200, content_type), source)
    frame = pd.DataFrame(records).assign(
        source_id="s", source_kind=source.kind, fetched_at=pd.Timestamp("2013-03-01", tz="UTC")
    )
    return records, normalise(frame, {"s": source}, reference=REF)


def test_csv_joined_date_and_times_fall_back_to_the_date_with_a_warning():
    fields = {"title": "Titre", "start": ["Date", "Horaires"], "venue_name": "Lieu"}
    records, result = _run({"kind": "csv", "fields": fields}, CITY_CSV, "text/csv")
    assert [r["start"] for r in records] == [
        "15/03/2013 Tous les mercredis et le 1er dimanche de 14h à 17h", "16/03/2013 20h30", "17/03/2013",
        "18/03/2013 de 18h à 19h30",
    ]  # fmt: skip
    assert result.rejects.empty
    rows = result.listings.set_index("title")
    local = rows["start_at"].dt.tz_convert("Europe/Paris").dt.strftime("%Y-%m-%d %H:%M")
    assert local.to_dict() == {
        "Atelier du mercredi": "2013-03-15 00:00", "Concert": "2013-03-16 20:30", "Visite": "2013-03-17 00:00",
        "Conférence": "2013-03-18 18:00",
    }  # fmt: skip
    assert rows.loc["Atelier du mercredi", "all_day"]
    warning = rows.loc["Atelier du mercredi", "parse_warning"]
    assert "the date alone was kept: 15/03/2013" in warning and "no month" in warning
    assert rows["parse_warning"].drop("Atelier du mercredi").isna().all()


def test_csv_plus_syntax_is_the_list_syntax():
    joined = {"title": "Titre", "start": "Date + Horaires"}
    listed = {"title": "Titre", "start": ["Date", "Horaires"]}
    assert (
        _run({"kind": "csv", "fields": joined}, CITY_CSV, "text/csv")[0]
        == _run({"kind": "csv", "fields": listed}, CITY_CSV, "text/csv")[0]
    )


def test_json_joins_a_day_and_an_hour():
    body = """{"items": [{"id": 1, "nom": "Balade", "jour": "2013-03-16", "heure": "16h"},
                          {"id": 2, "nom": "Bal", "jour": "2013-03-17", "heure": null}]}"""
    fields = {"uid": "id", "title": "nom", "start": ["jour", "heure"]}
    _, result = _run({"kind": "json", "records": "items", "fields": fields}, body, "application/json")
    local = result.listings.set_index("title")["start_at"].dt.tz_convert("Europe/Paris").dt.strftime("%Y-%m-%d %H:%M")
    assert local.to_dict() == {"Balade": "2013-03-16 16:00", "Bal": "2013-03-17 00:00"}
    assert result.listings["parse_warning"].isna().all()


def test_an_empty_join_is_a_config_error():
    with pytest.raises(ConfigError, match=r"fields.*start.*at least one"):
        parse_config(
            {"sources": [{"id": "s", "kind": "json", "url": "x", "fields": {"start": []}}]}, Path("s.yaml"), {}
        )
