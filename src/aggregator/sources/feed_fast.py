"""Fast reading of plain RSS 2.0 items; any other shape is left to feedparser, which it reproduces.

feedparser reads a feed through SAX handlers, one Python call per element and per piece of text;
on a big feed that is nine tenths of the adapter's time. Here ElementTree (the same expat parser)
builds the document, and each item becomes the dict feedparser would give for it: the same
functions of feedparser turn the text into values (encoding, relative links, sanitised HTML,
dates), in the same order. Only a known set of item children is read; anything else (another
namespace, attributes, ``xml:base``, a repeated element, nested markup, machine-readable dates)
returns None, and the caller uses feedparser. A differential test holds the two to the same records.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from typing import Any

# feedparser's own helpers, private ones included: its version is pinned, and the differential
# tests (tests/test_feed_fast.py) fail if an upgrade changes what they or feedparser do.
from feedparser.datetimes import _parse_date
from feedparser.encodings import convert_to_utf8
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.sanitizer import _sanitize_html, replace_doctype
from feedparser.urls import _urljoin, make_safe_absolute_uri, resolve_relative_uris
from feedparser.util import FeedParserDict

_DC = "{http://purl.org/dc/elements/1.1/}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_WFW = "{http://wellformedweb.org/CommentAPI/}"
_SLASH = "{http://purl.org/rss/1.0/modules/slash/}"
# Item children read (feedparser's element name) or skipped (None: they set nothing the records use).
CHILDREN: dict[str, str | None] = {
    "title": "title", "link": "link", "guid": "id", "description": "description", "pubDate": "published",
    "category": "category", "author": "author", f"{_DC}creator": "author", f"{_CONTENT}encoded": "content",
    "comments": None, f"{_WFW}commentRss": None, f"{_SLASH}comments": None,
}  # fmt: skip
# The only attributes an item child may carry (any other: feedparser's path).
ATTRIBUTES = {"guid": {"isPermaLink"}, "category": {"domain"}}
SINGLE = {"title", "link", "id", "description", "published", "author", "content"}
# The entry keys these children give that a source may name as its date, end or place field.
FIELDS = {"id", "title", "link", "summary", "published", "published_parsed", "author"}
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
# What makes the adapter read an item's HTML with BeautifulSoup (machine-readable dates).
MARKERS = re.compile(r"dtstart|startDate|ld\+json")
_ENTITY_LIKE = re.compile("&([A-Za-z0-9_]+);")
_HTML_PASSES = re.compile("[<&\r]")
_m = _FeedParserMixin


class _UnusualShapeError(Exception):
    """The feed has a shape left to feedparser."""


def read(content: bytes, url: str) -> list[dict[str, Any]] | None:
    """The entries feedparser would give for ``content`` (their keys that records use), or None.

    Args:
        content: The feed's bytes, as fetched.
        url: Its address: relative links resolve against it, as feedparser's ``content-location``.

    Returns:
        One dict per item (``id``, ``title``, ``link``, ``summary``, ``author``, ``tags``,
        ``published``, ``published_parsed``, each when feedparser sets it), or None when the feed
        is not plain RSS 2.0 that this module reads exactly as feedparser does.
    """
    if MARKERS.search(content.decode("utf-8", "replace")):
        return None
    result = FeedParserDict(bozo=False, entries=[], feed=FeedParserDict(), headers={"content-location": url})
    data = convert_to_utf8(result["headers"], content, result)
    if not result["encoding"]:  # feedparser would use its loose parser
        return None
    _, data, entities = replace_doctype(data)
    if entities or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return None
    base = make_safe_absolute_uri("", url) or make_safe_absolute_uri(url) or ""
    try:
        root = ET.fromstring(data)
        items = _items(root)
        # The base of an item's children: the feed's address, then each element's start tag on the
        # way down (rss, channel, item, the child), as feedparser's ``unknown_starttag`` moves it.
        for attrs in (root.attrib, {}, {}, {}):
            base = _enter(base, attrs.get(_XML_BASE))
        return [_entry(item, base) for item in items]
    except (ET.ParseError, _UnusualShapeError):
        return None


def _items(root: ET.Element) -> list[ET.Element]:
    channels = list(root)
    if root.tag != "rss" or len(channels) != 1 or channels[0].tag != "channel":
        raise _UnusualShapeError("not an RSS 2.0 document")
    for element in root.iter():  # an xml:base below the root would move the base item by item
        if "base" in element.attrib or (_XML_BASE in element.attrib and element is not root):
            raise _UnusualShapeError("xml:base")
    items = [child for child in channels[0] if child.tag == "item"]
    if not items or sum(1 for _ in root.iter("item")) != len(items):
        raise _UnusualShapeError("no items, or items elsewhere than in the channel")
    return items


def _enter(base: str, given: str | None) -> str:
    """The base URI inside an element, from the one outside and its ``xml:base`` (feedparser's rules)."""
    given = given or base
    if base:
        return make_safe_absolute_uri(base, given) or base
    return str(_urljoin(base, given))


def _entry(item: ET.Element, base: str) -> dict[str, Any]:
    """One item as feedparser's strict parser would store it (see ``_FeedParserMixin.pop``)."""
    if item.attrib:
        raise _UnusualShapeError("item attributes")
    entry: dict[str, Any] = {}
    seen: set[str] = set()
    for child in item:
        if child.tag not in CHILDREN or len(child):
            raise _UnusualShapeError(f"item child {child.tag}")
        if set(child.attrib) - ATTRIBUTES.get(child.tag, set()):
            raise _UnusualShapeError(f"attributes of {child.tag}")
        name = CHILDREN[child.tag]
        if name is None:
            continue
        if name in SINGLE:
            if name in seen:
                raise _UnusualShapeError(f"two {child.tag}")
            seen.add(name)
        _read(entry, name, child, base)
    if "content" in seen and "description" not in seen:
        raise _UnusualShapeError("content without description")  # feedparser copies it to the summary
    return entry


def _read(entry: dict[str, Any], name: str, child: ET.Element, base: str) -> None:
    text = (child.text or "").strip()
    if name == "id":
        permalink = child.attrib.get("isPermaLink", "true")
        if permalink not in ("true", "false"):
            raise _UnusualShapeError("isPermaLink")
        value = _value("id", text, base, resolve=permalink == "true")
        entry["id"] = value
        if permalink == "true":
            entry.setdefault("link", value)
    elif name == "link":
        value = _value("link", text, base)
        entry["link"] = _ENTITY_LIKE.sub(r"&\g<1>", value.replace("&amp;", "&"))
    elif name == "title":
        entry["title"] = _value("title", text, base, content_type="text/plain")
    elif name in ("description", "content"):
        value = _value(name, text, base, content_type="text/html")
        if name == "description":
            entry["summary"] = value
        else:
            entry["content"] = [{"type": "text/html", "value": value}]
    elif name == "published":
        entry["published"] = _value("published", text, base)
        entry["published_parsed"] = _parse_date(entry["published"])
    elif name == "author":
        entry["author"] = _value("author", text, base)
    else:
        _category(entry, _value("category", text, base), child.attrib.get("domain"))


def _value(element: str, output: str, base: str, resolve: bool = True, content_type: str | None = None) -> str:
    """``_FeedParserMixin.pop`` for the strict parser, on the element's stripped text."""
    if element in _m.can_be_relative_uri and output and resolve:
        output = _urljoin(base, output)
    if content_type == "text/plain" and _m.looks_like_html(output):
        content_type = "text/html"
    kind = content_type or "text/html"  # elements pushed without content parameters count as HTML
    # Text without markup, entity or carriage return comes out of both HTML passes as it went in
    # (a property test holds them to it): most descriptions of big feeds skip them.
    if _m.map_content_type(kind) in _m.html_types and _HTML_PASSES.search(output):
        if element in _m.can_contain_relative_uris:
            output = resolve_relative_uris(output, base, "utf-8", kind)
        if element in _m.can_contain_dangerous_markup:
            output = _sanitize_html(output, "utf-8", kind)
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):  # feedparser's repair of UTF-8 read as Latin-1
        output = output.encode("iso-8859-1").decode("utf-8")
    return output.translate(_cp1252)


def _category(entry: dict[str, Any], value: str, domain: str | None) -> None:
    """``_start_category`` then ``_end_category``: a term, or a scheme waiting for its term."""
    tags: list[dict[str, Any]] = entry.setdefault("tags", [])
    _add_tag(tags, None, domain)
    if not value:
        return
    if tags and not tags[-1]["term"]:
        tags[-1]["term"] = value
    else:
        _add_tag(tags, value, None)


def _add_tag(tags: list[dict[str, Any]], term: str | None, scheme: str | None) -> None:
    if not term and not scheme:
        return
    tag = {"term": term, "scheme": scheme, "label": None}
    if tag not in tags:
        tags.append(tag)
