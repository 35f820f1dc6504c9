"""French labels of the published columns and coded values, for files people open (CSV, Excel, report)."""

from __future__ import annotations

TYPE_LABELS = {
    "atelier": "Atelier", "conference": "Conférence", "table_ronde": "Table ronde", "webinaire": "Webinaire",
    "formation": "Formation", "hackathon": "Hackathon", "visite": "Visite", "exposition": "Exposition",
    "demonstration": "Démonstration", "debat_citoyen": "Débat citoyen", "autre": "Autre",
}  # fmt: skip
MODE_LABELS = {"in_person": "Sur place", "online": "En ligne", "hybrid": "Hybride", "unknown": "Non précisé"}
STATUS_LABELS = {
    "scheduled": "Prévu", "cancelled": "Annulé", "postponed": "Reporté", "rescheduled": "Reprogrammé",
    "moved_online": "Passé en ligne",
}  # fmt: skip
SOURCE_STATUS_LABELS = {"ok": "Fonctionne", "failed": "En échec", "broken": "Semble cassée"}
BOOLEAN_LABELS = {True: "oui", False: "non"}

# Coded values shown in French, per (table, column): the codes stay in the Parquet files.
VALUE_LABELS: dict[tuple[str, str], dict[str, str]] = {
    ("events", "attendance_mode"): MODE_LABELS,
    ("events", "event_type"): TYPE_LABELS,
    ("events", "status"): STATUS_LABELS,
    ("by_attendance_mode", "attendance_mode"): MODE_LABELS,
    ("by_event_type", "event_type"): TYPE_LABELS,
    ("by_source", "status"): SOURCE_STATUS_LABELS,
}

COLUMN_LABELS = {
    # events
    "event_id": "Identifiant",
    "title": "Titre",
    "description": "Description",
    "start_at": "Début (heure locale)",
    "end_at": "Fin (heure locale)",
    "timezone": "Fuseau horaire",
    "all_day": "Toute la journée",
    "attendance_mode": "Format",
    "event_type": "Type",
    "status": "Statut",
    "venue_name": "Lieu",
    "street_address": "Adresse",
    "postal_code": "Code postal",
    "city": "Ville",
    "commune_insee": "Code commune (INSEE)",
    "arrondissement_insee": "Code arrondissement (INSEE)",
    "departement_code": "Code département",
    "departement_name": "Département",
    "region_code": "Code région",
    "region_name": "Région",
    "geo_precision": "Précision du lieu",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "organizer": "Organisateur",
    "url": "Page de l’événement",
    "registration_url": "Inscription",
    "online_url": "Lien pour participer en ligne",
    "source_ids": "Sources",
    "source_urls": "Pages dans les sources",
    "n_sources": "Nombre de sources",
    "n_listings": "Nombre d’annonces",
    "series_id": "Identifiant de série",
    "first_seen_at": "Vu la première fois (UTC)",
    "last_seen_at": "Vu la dernière fois (UTC)",
    "removed_at": "Retiré le (UTC)",
    # statistics
    "events": "Événements",
    "in_person": "Sur place",
    "online": "En ligne",
    "hybrid": "Hybride",
    "unknown": "Format non précisé",
    "date": "Date",
    "source_id": "Source",
    "kind": "Type de source",
    "listings": "Annonces",
    "events_only_here": "Événements listés par elle seule",
    "rejects": "Lignes écartées",
    "scope": "Périmètre",
    "rows": "Lignes",
    "resolved_region": "Rattachées à une région",
    "share_resolved": "Part rattachée",
    "commune": "Par code commune",
    "city_over_postal_code": "Par ville (code postal contredit)",
    "city_name": "Par nom de ville",
    "city_name_majority": "Par nom de ville (territoire de la source)",
    "departement": "Par département",
    "region": "Par région",
    "coordinates": "Par coordonnées",
    "source_default": "Par défaut de la source",
    "none": "Non localisées",
    "edition": "Édition",
    "previous_events": "Événements de l’édition précédente",
    "change": "Évolution",
}

# geo_quality has a column named after the precision "postal_code", which events use for the code itself.
TABLE_COLUMN_LABELS: dict[tuple[str, str], str] = {("geo_quality", "postal_code"): "Par code postal"}


def column_label(table: str, column: str) -> str:
    """The French header of ``column`` of ``table`` (``KeyError`` when none is defined: a test checks all)."""
    return TABLE_COLUMN_LABELS.get((table, column)) or COLUMN_LABELS[column]


def french_label(table: str, column: str) -> str | None:
    """The French header of ``column`` of ``table``, or None for columns only analysts see."""
    return TABLE_COLUMN_LABELS.get((table, column)) or COLUMN_LABELS.get(column)
