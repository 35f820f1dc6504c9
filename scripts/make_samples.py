"""Write the bundled sample sources under data/samples/ (SAMPLE data written by the team, not real events).

The samples imitate how the Mois de l'innovation publique is published: a national programme
served as a paginated JSON API, a regional news page in HTML and an innovation lab's iCalendar.
Some events appear on two sources, spelled differently, so that deduplication has work to do.
Rerun after editing EVENTS: ``python scripts/make_samples.py``.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "data" / "samples"
NOTE = "SAMPLE DATA written by the aggregator team for tests and demos; not real events."

# key, title, day (November 2026), start, end, venue, street, postal code, city, mode, organiser, on
# "on" lists where the event is published: n = national JSON, h = Nouvelle-Aquitaine HTML, i = lab iCal,
# c = prefecture CSV, f = lab RSS, j = Grand Est JSON-LD, d = DATAtourisme, o = Opendatasoft, a = OpenAgenda.
# fmt: off
EVENTS: list[tuple[str, str, int, str, str, str, str, str, str, str, str, str]] = [
    ("e01", "Atelier : Design des services publics", 3, "14:00", "16:30", "Le Node", "12 rue des Faussets", "33000", "Bordeaux", "offline", "Préfecture de la Gironde", "nh"),
    ("e02", "Conférence d'ouverture du Mois de l'innovation publique", 2, "09:30", "12:00", "Ministère de la Transformation", "101 rue de Grenelle", "75007", "Paris", "mixed", "DITP", "no"),
    ("e03", "Webinaire : l'IA au service des agents", 4, "11:00", "12:00", "", "", "", "", "online", "DINUM", "n"),
    ("e04", "Hackathon « Données ouvertes et mobilités »", 14, "09:00", "18:00", "La Cité du Numérique", "2 rue Marc Sangnier", "33130", "Bègles", "offline", "Région Nouvelle-Aquitaine", "nh"),
    ("e05", "Table ronde : simplifier les démarches des usagers", 5, "17:00", "19:00", "Hôtel de Région", "14 rue François de Sourdis", "33000", "Bordeaux", "offline", "Région Nouvelle-Aquitaine", "nh"),
    ("e06", "Visite du laboratoire d'innovation territoriale", 6, "10:00", "12:00", "La Fabrique", "5 place de la Bourse", "86000", "Poitiers", "offline", "Département de la Vienne", "h"),
    ("e07", "Formation : mener un entretien usager", 9, "09:30", "17:00", "Campus de l'innovation", "3 avenue de Limoges", "87000", "Limoges", "offline", "CNFPT Nouvelle-Aquitaine", "nh"),
    ("e08", "Exposition « 10 ans d'innovation publique »", 10, "", "", "Médiathèque", "8 cours Victor Hugo", "64100", "Bayonne", "offline", "Ville de Bayonne", "h"),
    ("e09", "Débat citoyen : la ville de demain", 12, "18:30", "20:30", "Maison des associations", "40 rue Gambetta", "17000", "La Rochelle", "offline", "Ville de La Rochelle", "nh"),
    ("e10", "Atelier fresque du numérique", 17, "14:00", "17:00", "Tiers-lieu La Mine", "1 rue de l'Usine", "24000", "Périgueux", "offline", "Dordogne Numérique", "h"),
    ("e11", "Démonstration : le guichet unique en ligne", 18, "10:00", "11:00", "", "", "", "", "online", "Région Nouvelle-Aquitaine", "h"),
    ("e12", "Rencontre des labs d'innovation d'Occitanie", 3, "09:30", "17:00", "Hôtel de Région", "22 boulevard du Maréchal Juin", "31400", "Toulouse", "offline", "Lab'Oc", "ni"),
    ("e13", "Atelier : coconstruire avec les usagers", 5, "14:00", "17:00", "La Serre", "10 rue de la Loge", "34000", "Montpellier", "offline", "Lab'Oc", "ni"),
    ("e14", "Webinaire : les sciences comportementales", 10, "11:00", "12:00", "", "", "", "", "online", "Lab'Oc", "ni"),
    ("e15", "Simplificathon des démarches préfectorales", 19, "09:00", "17:30", "Préfecture du Gard", "10 avenue Feuchères", "30000", "Nîmes", "offline", "Préfecture du Gard", "ni"),
    ("e16", "Portes ouvertes du Lab'Oc", 20, "", "", "Lab'Oc", "11 rue Ozenne", "31000", "Toulouse", "offline", "Lab'Oc", "i"),
    ("e17", "Séminaire design et politiques publiques", 24, "09:00", "12:30", "Université Perpignan", "52 avenue Paul Alduy", "66100", "Perpignan", "mixed", "Lab'Oc", "i"),
    ("e18", "Atelier : rédiger en langage clair", 26, "14:00", "16:00", "Lab'Oc", "11 rue Ozenne", "31000", "Toulouse", "offline", "Lab'Oc", "i"),
    ("e19", "Conférence : l'innovation dans les territoires ruraux", 6, "14:00", "16:00", "Maison de la Région", "1 place Jean Jaurès", "21000", "Dijon", "offline", "Région Bourgogne-Franche-Comté", "n"),
    ("e20", "Atelier : prototyper un service numérique", 7, "09:30", "12:30", "Le Shadok", "25 presqu'île Malraux", "67100", "Strasbourg", "offline", "Eurométropole de Strasbourg", "nj"),
    ("e21", "Hackathon santé publique", 13, "09:00", "18:00", "Euratechnologies", "165 avenue de Bretagne", "59000", "Lille", "offline", "ARS Hauts-de-France", "n"),
    ("e22", "Table ronde : innovation et achats publics", 16, "10:00", "12:00", "Préfecture de région", "6 quai Ceineray", "44000", "Nantes", "offline", "Préfecture des Pays de la Loire", "nd"),
    ("e23", "Atelier participatif : budget citoyen", 18, "18:00", "20:00", "Hôtel de ville", "Place de la Mairie", "35000", "Rennes", "offline", "Ville de Rennes", "nc"),
    ("e24", "Visite du FabLab de la préfecture", 19, "14:00", "16:00", "Préfecture de la Corse-du-Sud", "Palais Lantivy", "20000", "Ajaccio", "offline", "Préfecture de Corse", "n"),
    ("e25", "Conférence : innovation publique outre-mer", 20, "09:00", "11:00", "Rectorat", "24 avenue Georges Brassens", "97400", "Saint-Denis", "offline", "Préfecture de La Réunion", "n"),
    ("e26", "Atelier : accueil des usagers", 21, "09:00", "12:00", "Préfecture", "Rue Lardenoy", "97100", "Basse-Terre", "offline", "Préfecture de la Guadeloupe", "n"),
    ("e27", "Webinaire : mesurer l'impact d'une innovation", 23, "14:00", "15:00", "", "", "", "", "online", "DITP", "n"),
    ("e28", "Formation : animer un atelier d'intelligence collective", 24, "09:00", "17:00", "Lab Zéro", "50 rue de la Villette", "69003", "Lyon", "offline", "Préfecture du Rhône", "na"),
    ("e29", "Exposition des projets lauréats", 25, "", "", "Grand Palais Éphémère", "Place Joffre", "75007", "Paris", "offline", "DITP", "no"),
    ("e30", "Démonstration de l'agent conversationnel public", 26, "10:00", "11:30", "Le 27e Lieu", "4 place de la République", "13001", "Marseille", "mixed", "Préfecture des Bouches-du-Rhône", "n"),
    ("e31", "Débat : quelle administration en 2036 ?", 27, "18:00", "20:00", "Le Dôme", "3 esplanade Stéphane Hessel", "14000", "Caen", "offline", "Région Normandie", "nf"),
    ("e32", "Atelier : Design des services publics", 17, "14:00", "16:30", "Le Node", "12 rue des Faussets", "33000", "Bordeaux", "offline", "Préfecture de la Gironde", "n"),
    ("e33", "Clôture du Mois de l'innovation publique", 30, "16:00", "18:00", "Ministère de la Transformation", "101 rue de Grenelle", "75007", "Paris", "mixed", "DITP", "no"),
    ("e34", "Rencontre des agents innovateurs du Centre-Val de Loire", 12, "09:30", "12:30", "Hôtel de Région", "9 rue Saint-Pierre-Lentin", "45000", "Orléans", "offline", "Région Centre-Val de Loire", "n"),
    ("e35", "Atelier : l'accueil en préfecture repensé", 9, "10:00", "12:00", "Préfecture du Finistère", "42 boulevard Dupleix", "29000", "Quimper", "offline", "Préfecture du Finistère", "c"),
    ("e36", "Café innovation des agents normands", 19, "08:30", "10:00", "Le Dôme", "3 esplanade Stéphane Hessel", "14000", "Caen", "offline", "Lab Normandie", "f"),
    ("e37", "Démonstration : l'usager au centre des démarches", 24, "14:00", "16:00", "Maison de la Région", "1 place Adrien Zeller", "67000", "Strasbourg", "offline", "Région Grand Est", "j"),
    ("e38", "Exposition « Services publics de demain »", 16, "", "", "Château des ducs de Bretagne", "4 place Marc Elder", "44000", "Nantes", "offline", "Ville de Nantes", "d"),
    ("e39", "Webinaire francilien : achats innovants", 17, "10:00", "11:30", "", "", "", "", "online", "Région Île-de-France", "o"),
    ("e40", "Atelier prototypage rapide", 4, "14:00", "17:00", "Lab Zéro", "50 rue de la Villette", "69003", "Lyon", "offline", "Préfecture du Rhône", "a"),
]
# fmt: on

# How the secondary sources spell shared events differently: accents, case and punctuation.
HTML_TITLES = {
    "e01": "ATELIER – design des services publics",
    "e04": "Hackathon Données ouvertes et mobilités",
    "e05": "Table ronde - Simplifier les démarches des usagers",
    "e07": "Formation: mener un entretien usager",
    "e09": "Débat citoyen – La ville de demain",
}
ICAL_TITLES = {
    "e12": "Rencontre des Labs d'innovation d'Occitanie",
    "e13": "Atelier - Coconstruire avec les usagers",
    "e14": "WEBINAIRE : les sciences comportementales",
    "e15": "Simplificathon des demarches prefectorales",
}
MODE_FR = {"offline": "Sur place", "online": "En ligne", "mixed": "Hybride (sur place et en ligne)"}


def _iso(day: int, hhmm: str) -> str:
    return f"2026-11-{day:02d}T{hhmm}:00+01:00" if hhmm else f"2026-11-{day:02d}"


def national() -> None:
    """The national programme: a JSON API in two pages linked by ``next``."""
    records = []
    for key, title, day, start, end, venue, street, postal, city, mode, org, on in EVENTS:
        if "n" not in on:
            continue
        records.append(
            {
                "uid": f"mip-2026-{key}",
                "name": title,
                "summary": f"<p>{escape(title)}. Un événement du <strong>Mois de l'innovation publique</strong>.</p>",
                "dates": {"start": _iso(day, start), "end": _iso(day, end) if end else None},
                "place": {
                    "name": venue or None,
                    "address": street or None,
                    "postalCode": postal or None,
                    "city": city or None,
                },
                "attendance": mode,
                "organiser": org,
                "link": f"/programme/{key}",
            }
        )
    half = (len(records) + 1) // 2
    pages = [records[:half], records[half:]]
    for number, page in enumerate(pages, start=1):
        body = {
            "_note": NOTE,
            "total": len(records),
            "page": number,
            "next": f"programme-national-p{number + 1}.json" if number < len(pages) else None,
            "events": page,
        }
        path = OUT / f"programme-national-p{number}.json"
        path.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def regional() -> None:
    """A regional news page listing events as <article> cards."""
    cards = []
    for key, title, day, start, _end, venue, street, postal, city, mode, org, on in EVENTS:
        if "h" not in on:
            continue
        title = HTML_TITLES.get(key, title)
        when = f"2026-11-{day:02d}T{start}" if start else f"2026-11-{day:02d}"
        place = (
            f'<p class="lieu"><span class="salle">{escape(venue)}</span>, '
            f'<span class="adresse">{escape(street)}</span> '
            f'<span class="cp">{postal}</span> <span class="ville">{escape(city)}</span></p>'
            if city
            else '<p class="lieu">En ligne</p>'
        )
        cards.append(
            f"""    <article class="evenement" id="{key}">
      <h3><a href="/agenda/{key}.html">{escape(title)}</a></h3>
      <time datetime="{when}">{day} novembre 2026{f" à {start.replace(':', 'h')}" if start else ""}</time>
      {place}
      <p class="format">{MODE_FR[mode]}</p>
      <p class="organisateur">{escape(org)}</p>
    </article>"""
        )
    cards.append(
        """    <article class="evenement" id="sans-date">
      <h3><a href="/agenda/a-venir.html">Atelier surprise : date à venir</a></h3>
      <p class="lieu"><span class="ville">Pau</span></p>
    </article>"""
    )
    page = f"""<!doctype html>
<!-- {NOTE} -->
<html lang="fr">
<head><meta charset="utf-8"><title>Actualités – Mois de l'innovation publique en Nouvelle-Aquitaine</title></head>
<body>
  <h1>Le Mois de l'innovation publique en Nouvelle-Aquitaine</h1>
  <p>Retrouvez les événements de la région. <em>(Page d'exemple, événements fictifs.)</em></p>
  <section class="agenda">
{chr(10).join(cards)}
  </section>
</body>
</html>
"""
    (OUT / "nouvelle-aquitaine-actualites.html").write_text(page, encoding="utf-8")


def lab_calendar() -> None:
    """An innovation lab's calendar in iCalendar, with a cancelled and an all-day event."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Lab'Oc//Agenda//FR",
        "X-WR-CALNAME:Agenda du Lab'Oc (exemple)",
        "X-WR-TIMEZONE:Europe/Paris",
        f"X-WR-CALDESC:{NOTE}",
    ]
    for key, title, day, start, end, venue, street, postal, city, mode, org, on in EVENTS:
        if "i" not in on:
            continue
        title = ICAL_TITLES.get(key, title)
        lines += ["BEGIN:VEVENT", f"UID:{key}@laboc.example.org", "DTSTAMP:20261020T080000Z"]
        if start:
            lines += [
                f"DTSTART;TZID=Europe/Paris:202611{day:02d}T{start.replace(':', '')}00",
                f"DTEND;TZID=Europe/Paris:202611{day:02d}T{end.replace(':', '')}00",
            ]
        else:
            lines += [
                f"DTSTART;VALUE=DATE:202611{day:02d}",
                f"DTEND;VALUE=DATE:202611{day + 1:02d}",
            ]
        summary = title.replace(",", "\\,").replace(";", "\\;")
        lines.append(f"SUMMARY:{summary}")
        if city:
            lines.append(f"LOCATION:{venue}\\, {street}\\, {postal} {city}".replace(";", "\\;"))
        else:
            lines.append("LOCATION:En ligne (lien envoyé après inscription)")
        lines.append(f"DESCRIPTION:{MODE_FR[mode]}. Organisé par {org}.")
        lines.append(f"URL:https://laboc.example.org/agenda/{key}")
        lines.append(f'ORGANIZER;CN="{org}":mailto:contact@laboc.example.org')
        lines.append("END:VEVENT")
    lines += [
        "BEGIN:VEVENT",
        "UID:annule-01@laboc.example.org",
        "DTSTAMP:20261020T080000Z",
        "DTSTART;TZID=Europe/Paris:20261127T140000",
        "DTEND;TZID=Europe/Paris:20261127T160000",
        "SUMMARY:ANNULÉ – Atelier : budget participatif",
        "STATUS:CANCELLED",
        "LOCATION:Lab'Oc\\, 11 rue Ozenne\\, 31000 Toulouse",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    (OUT / "laboc-agenda.ics").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))


def _on(flag: str) -> list[tuple[str, str, int, str, str, str, str, str, str, str, str, str]]:
    return [e for e in EVENTS if flag in e[11]]


def prefecture_csv() -> None:
    """A prefecture's spreadsheet export: ';'-separated, windows-1252, French dates."""
    rows = ["Intitulé;Date;Horaires;Lieu;Adresse;Code postal;Ville;Organisateur"]
    for key, title, day, start, end, venue, street, postal, city, mode, org, _flags in _on("c"):  # noqa: B007
        hours = f"de {start.replace(':', 'h')} à {end.replace(':', 'h')}" if start else "toute la journée"
        rows.append(
            f"{title.upper() if key == 'e23' else title};{day:02d}/11/2026;{hours};{venue};{street};{postal};{city};{org}"
        )
    (OUT / "bretagne-prefecture.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))


def lab_feed() -> None:
    """A lab's blog as RSS: the event date is written in each post's text."""
    items = []
    for key, title, day, start, end, venue, street, postal, city, mode, org, _flags in _on("f"):  # noqa: B007
        when = f"le {day} novembre 2026 de {start.replace(':', 'h')} à {end.replace(':', 'h')}"
        items.append(f"""  <item>
    <title>{escape(title)}</title>
    <link>https://lab-normandie.example.org/blog/{key}</link>
    <guid>https://lab-normandie.example.org/blog/{key}</guid>
    <description>{escape(f"<p>Rendez-vous {when}, {venue}, {city}.</p>")}</description>
  </item>""")
    feed = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- {NOTE} -->
<rss version="2.0"><channel>
  <title>Blog du Lab Normandie (exemple)</title><link>https://lab-normandie.example.org/</link>
  <description>{NOTE}</description>
{chr(10).join(items)}
</channel></rss>
"""
    (OUT / "lab-normandie-blog.rss").write_text(feed, encoding="utf-8")


def region_jsonld() -> None:
    """A regional page publishing its events as schema.org JSON-LD."""
    graph = []
    for key, title, day, start, end, venue, street, postal, city, mode, org, _flags in _on("j"):  # noqa: B007
        graph.append(
            {
                "@type": "Event",
                "@id": f"https://grandest.example.org/agenda/{key}",
                "name": title,
                "startDate": _iso(day, start),
                "endDate": _iso(day, end),
                "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
                "eventStatus": "https://schema.org/EventScheduled",
                "location": {
                    "@type": "Place",
                    "name": venue,
                    "address": {
                        "@type": "PostalAddress",
                        "streetAddress": street,
                        "postalCode": postal,
                        "addressLocality": city,
                        "addressRegion": "Grand Est",
                    },
                },
                "organizer": {"@type": "Organization", "name": org},
            }
        )
    data = json.dumps({"@context": "https://schema.org", "@graph": graph}, ensure_ascii=False, indent=1)
    page = f"""<!doctype html>
<!-- {NOTE} -->
<html lang="fr"><head><meta charset="utf-8"><title>Agenda de l'innovation – Grand Est (exemple)</title>
<script type="application/ld+json">
{data}
</script></head><body><h1>Agenda (exemple)</h1></body></html>
"""
    (OUT / "grand-est-agenda.html").write_text(page, encoding="utf-8")


def tourism_datatourisme() -> None:
    """A DATAtourisme export of the Pays de la Loire tourism network."""
    graph = []
    for key, title, day, start, end, venue, street, postal, city, mode, org, _flags in _on("d"):  # noqa: B007
        period = {
            "@type": ["Period"],
            "startDate": f"2026-11-{day:02d}",
            "endDate": f"2026-11-{day + (4 if not start else 0):02d}",
        }
        if start:
            period |= {"startTime": f"{start}:00", "endTime": f"{end}:00"}
        graph.append(
            {
                "@id": f"https://data.datatourisme.fr/sample/{key}",
                "dc:identifier": f"SAMPLE-{key}",
                "@type": ["schema:Event", "PointOfInterest"],
                "rdfs:label": {"fr": [title]},
                "rdfs:comment": {"fr": [f"{title} ({NOTE})"]},
                "takesPlaceAt": [period],
                "isLocatedAt": [
                    {
                        "schema:address": [
                            {
                                "schema:addressLocality": city,
                                "schema:postalCode": postal,
                                "schema:streetAddress": [street],
                            }
                        ]
                    }
                ],
            }
        )
    (OUT / "pays-de-la-loire-datatourisme.json").write_text(
        json.dumps({"@context": {}, "@graph": graph}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def idf_opendatasoft() -> None:
    """An Opendatasoft portal's records endpoint, as files laid out like the API's paths."""
    results = []
    for key, title, day, start, end, venue, street, postal, city, mode, org, _flags in _on("o"):  # noqa: B007
        begin = f"2026-11-{day:02d}T{start or '00:00'}:00+01:00"
        finish = f"2026-11-{day:02d}T{end or '23:59'}:00+01:00"
        results.append(
            {
                "uid": f"sample-{key}",
                "title_fr": title if key != "e02" else title.replace("Conférence", "Conference"),
                "longdescription_fr": f"<p>{escape(title)}</p>",
                "timings": json.dumps([{"begin": begin, "end": finish}]),
                "location_name": venue or None,
                "location_address": street or None,
                "location_postalcode": postal or None,
                "location_city": city or None,
                "location_region": "Île-de-France" if city else None,
                "attendancemode": json.dumps({"id": {"offline": 1, "online": 2, "mixed": 3}[mode]}),
                "status": json.dumps({"id": 1}),
                "canonicalurl": f"https://openagenda.com/idf/events/{key}",
            }
        )
    path = OUT / "opendatasoft" / "api" / "explore" / "v2.1" / "catalog" / "datasets" / "mois-innovation-idf"
    path.mkdir(parents=True, exist_ok=True)
    body = {"_note": NOTE, "total_count": len(results), "results": results}
    (path / "records").write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def aura_openagenda() -> None:
    """An OpenAgenda agenda's events endpoint, as a file laid out like the API's path."""
    events = []
    for key, title, day, start, end, venue, street, postal, city, mode, org, _flags in _on("a"):  # noqa: B007
        timings = [{"begin": _iso(day, start), "end": _iso(day, end)}]
        if key == "e40":  # a workshop held twice: two sessions, two listings
            timings.append({"begin": _iso(day + 14, start), "end": _iso(day + 14, end)})
        events.append(
            {
                "uid": int(key[1:]) * 1000,
                "title": title,
                "description": title,
                "timings": timings,
                "attendanceMode": {"offline": 1, "online": 2, "mixed": 3}[mode],
                "status": 1,
                "location": {
                    "name": venue,
                    "address": street,
                    "postalCode": postal,
                    "city": city,
                    "region": "Auvergne-Rhône-Alpes",
                },
                "keywords": ["innovation publique"],
            }
        )
    path = OUT / "openagenda" / "v2" / "agendas" / "mois-innovation-aura"
    path.mkdir(parents=True, exist_ok=True)
    body = {"_note": NOTE, "total": len(events), "after": None, "events": events}
    (path / "events").write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    """Write every sample file."""
    OUT.mkdir(parents=True, exist_ok=True)
    national()
    regional()
    lab_calendar()
    prefecture_csv()
    lab_feed()
    region_jsonld()
    tourism_datatourisme()
    idf_opendatasoft()
    aura_openagenda()
    print(f"samples written to {OUT}")


if __name__ == "__main__":
    main()
