"""The fast RSS path against feedparser: the same entries, the same records, on every feed it reads."""

from __future__ import annotations

import sys
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser
import pytest
from conftest import realworld_dir
from feedparser.sanitizer import _sanitize_html
from feedparser.urls import resolve_relative_uris
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aggregator.http import Fetched
from aggregator.sources import feed as feed_module
from aggregator.sources import get_adapter
from aggregator.sources.feed_fast import read

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from parsers_bench import _source, feed_file  # noqa: E402

KEYS = ("id", "title", "link", "summary", "author", "published", "published_parsed", "tags")
URL = "https://agenda.example.org/dir/feed.xml"
NS = (
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:media="http://search.yahoo.com/mrss/" xmlns:atom="http://www.w3.org/2005/Atom"'
)


def _records(content: bytes, fast: bool, url: str = URL, **fields: str) -> list[dict]:
    """The adapter's records, with or without the fast path."""
    page = Fetched(url=url, content=content, status=200)
    with pytest.MonkeyPatch.context() as patch:
        if not fast:
            patch.setattr(feed_module, "read_fast", lambda content, url: None)
        return get_adapter("feed").parse(page, _source({"id": "f", "kind": "feed", "url": "x", **fields}))


def _same_as_feedparser(content: bytes, url: str = URL) -> bool:
    """Whether the fast path read ``content``; if it did, its entries and records equal feedparser's."""
    fast = read(content, url)
    if fast is None:
        return False
    slow = feedparser.parse(content, response_headers={"content-location": url}).entries
    assert len(fast) == len(slow)
    for mine, theirs in zip(fast, slow, strict=True):
        assert {k: mine.get(k) for k in KEYS} == {k: theirs.get(k) for k in KEYS}
    assert _records(content, fast=True, url=url) == _records(content, fast=False, url=url)
    return True


# Text as feeds write it: words, accents, markup (escaped or in CDATA), entities, relative links,
# odd spaces, Windows-1252 controls, UTF-8 read as Latin-1, e-mail addresses.
PIECES = [
    "Atelier", "conférence", "à", "le 19 novembre 2026 à 14h30", "Lieu : 40440 Ondres", " ", "  ", "\n", "\xa0",
    "<p>", "</p>", "<b>gras</b>", "<script>alert(1)</script>", '<a href="/e/1">lien</a>', '<img src="i.png">',
    "&", "&amp;", "&lt;b&gt;", "&eacute;", "&#233;", "&nbsp;", "<", ">", '"', "'", "Ã©", "\x93guillemets\x94",
    "jean@example.org", "(Jean Dupont)", "/e/2", "e/3?a=1&b=2", "https://other.example.org/p", "javascript:x()",
    "dtstart", "2026-11-19", "\x00CR", "\x00CR\nligne",
]  # fmt: skip
TEXT = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)
DATES = st.sampled_from(
    ["Mon, 02 Nov 2026 08:00:00 +0100", "2026-11-02T08:00:00Z", "lundi 2 novembre", "", "Tue, 31 Feb 2026 25:00:00 GMT"]
)


@st.composite
def items(draw: st.DrawFn, plain: bool) -> str:
    """One <item>; ``plain``: only children the fast path reads, each at most once."""
    children: list[str] = []

    def text(tag: str, value: str, attrs: str = "") -> str:
        body = f"<![CDATA[{value}]]>" if "]]>" not in value and draw(st.booleans()) else escape(value)
        return f"<{tag}{attrs}>{body}</{tag}>".replace("\x00CR", "&#13;")  # a carriage return kept by XML

    once = {
        "title": lambda: text("title", draw(TEXT)),
        "link": lambda: text("link", draw(TEXT)),
        "guid": lambda: text(
            "guid", draw(TEXT), draw(st.sampled_from(["", ' isPermaLink="false"', ' isPermaLink="true"']))
        ),
        "description": lambda: text("description", draw(TEXT)),
        "pubDate": lambda: text("pubDate", draw(DATES)),
        "author": lambda: text(draw(st.sampled_from(["author", "dc:creator"])), draw(TEXT)),
    }
    for name in draw(st.lists(st.sampled_from(sorted(once)), unique=True)):
        children.append(once[name]())
    for _ in range(draw(st.integers(0, 3))):
        children.append(text("category", draw(TEXT), draw(st.sampled_from(["", ' domain="tags"']))))
    if "<description>" in "".join(children) and draw(st.booleans()):
        children.append(text("content:encoded", draw(TEXT)))
    if not plain:  # one child the fast path does not read, or one read twice
        extra = [
            "<media:title>Média</media:title>", "<source url='/s'>S</source>", "<dc:date>2026-11-02</dc:date>",
            '<enclosure url="/a.mp3" length="1" type="audio/mpeg"/>', '<title type="html">x</title>',
            text("description", "<p>base</p>", ' xml:base="/other/"'), "<Title>Casse</Title>", '<link base="/b/">l</link>',
            '<guid isPermaLink="yes">g</guid>', "<link><b>x</b></link>",
        ]  # fmt: skip
        twice = [c for c in children if not c.startswith("<category")]
        if "<description>" not in "".join(children):
            extra.append(text("content:encoded", "sans description"))
        children.insert(draw(st.integers(0, len(children))), draw(st.sampled_from(extra + twice)))
    order = draw(st.permutations(children))
    return "<item>" + "".join(order) + "</item>"


@st.composite
def feeds(draw: st.DrawFn, plain: bool = True) -> bytes:
    """An RSS 2.0 document; its declaration says UTF-8, Latin-1 or nothing."""
    declaration = draw(st.sampled_from(['<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0"?>', ""]))
    channel = "<title>Agenda</title><link>https://agenda.example.org/</link><description>Tout</description>"
    if draw(st.booleans()):
        channel += '<atom:link href="https://agenda.example.org/feed" rel="self" type="application/rss+xml"/>'
    if draw(st.booleans()):
        channel += "<image><title>Logo</title><url>/logo.png</url><link>/</link></image>"
    body = "".join(draw(st.lists(items(plain), min_size=1, max_size=4)))
    base = draw(
        st.sampled_from(["", ' xml:base="https://www.example.fr/"', ' xml:base="/sub/"', ' xml:base="javascript:x"'])
    )
    return f'{declaration}<rss version="2.0"{base} {NS}><channel>{channel}{body}</channel></rss>'.encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feeds(plain=True), st.sampled_from([URL, "https://agenda.example.org/", ""]))
def test_fast_path_gives_feedparsers_entries_and_records(content: bytes, url: str) -> None:
    event("fast path" if _same_as_feedparser(content, url) else "feedparser")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feeds(plain=False))
def test_a_shape_the_fast_path_does_not_know_goes_to_feedparser(content: bytes) -> None:
    assert read(content, URL) is None
    assert _records(content, fast=True) == _records(content, fast=False)


def test_plain_feeds_take_the_fast_path() -> None:
    """Written as real feeds are (the samples, the benchmark's shape): the fast path reads them, as feedparser does."""
    assert _same_as_feedparser(feed_file(300))
    assert _same_as_feedparser((ROOT / "data" / "samples" / "lab-normandie-blog.rss").read_bytes())
    wordpress = (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" {NS}><channel><title>Ville</title>'
        "<item><title>Atelier &#8211; numérique</title><link>https://ville.example.fr/?p=12&amp;lang=fr</link>"
        "<dc:creator><![CDATA[Mairie]]></dc:creator><pubDate>Tue, 03 Nov 2026 10:00:00 +0000</pubDate>"
        '<category><![CDATA[Agenda]]></category><guid isPermaLink="false">https://ville.example.fr/?p=12</guid>'
        "<description><![CDATA[<p>Le 19 novembre 2026 à 18h, salle du conseil, 29200 Brest.</p>]]></description>"
        "<content:encoded><![CDATA[<p>Le 19 novembre 2026 à 18h.</p>]]></content:encoded></item></channel></rss>"
    ).encode()
    assert _same_as_feedparser(wordpress)
    [record] = _records(wordpress, fast=True)
    assert record["organizer"] == "Mairie" and record["keywords"] == "Agenda"
    assert record["url"] == "https://ville.example.fr/?p=12&lang=fr"


@pytest.mark.parametrize("fields", [{"date_field": "published"}, {"date_field": "comments"}, {}])
def test_a_source_naming_an_entry_field_gets_the_same_records(fields: dict[str, str]) -> None:
    content = feed_file(20)
    assert _records(content, fast=True, **fields) == _records(content, fast=False, **fields)


def test_feeds_with_machine_readable_dates_are_left_to_feedparser() -> None:
    for name in ("agenda-caviste.rss", "agenda.atom"):
        content = (ROOT / "tests" / "fixtures" / "feed" / name).read_bytes()
        assert read(content, URL) is None
        assert _records(content, fast=True) == _records(content, fast=False)


@settings(max_examples=500, deadline=None)
@given(st.text().map(str.strip).filter(lambda t: not set(t) & {"<", "&", "\r"}))
def test_text_without_markup_passes_feedparsers_html_passes_unchanged(text: str) -> None:
    """What lets the fast path skip them (``feed_fast._HTML_PASSES``)."""
    resolved = resolve_relative_uris(text, URL, "utf-8", "text/html")
    assert _sanitize_html(resolved, "utf-8", "text/html") == text


@pytest.mark.parametrize(
    "item",
    [
        "<title>t</title><description>a&#13;\nb</description>",  # the HTML passes turn CR LF into LF
        "<title>Caf\xc3\xa9</title><description>\x93cit\xc3\xa9\x94</description>",  # UTF-8 read as Latin-1; cp1252
        "<title>A &amp;lt;b&amp;gt;x&amp;lt;/b&amp;gt;</title><link>/e?a=1&amp;amp;b=2</link>",
        '<guid isPermaLink="false">/g</guid><description>&lt;a href="/e/1"&gt;l&lt;/a&gt;</description>',
        '<category domain="d"></category><category>A</category><category>A</category><category domain="d">A</category>',
    ],
)
def test_shapes_where_feedparser_changes_the_text(item: str) -> None:
    content = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item>{item}</item></channel></rss>'
    assert _same_as_feedparser(content.encode("utf-8"))


def _real_feeds() -> list[Path]:
    folder = realworld_dir() / "feed"
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []


@pytest.mark.parametrize("path", _real_feeds(), ids=lambda p: p.name)
def test_real_feeds_give_the_same_records_by_either_path(path: Path) -> None:
    """The real-world corpus's feeds, when it has some (issue 14 asks for them)."""
    content = path.read_bytes()
    _same_as_feedparser(content)
    assert _records(content, fast=True) == _records(content, fast=False)
