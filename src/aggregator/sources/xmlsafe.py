"""Refuse hostile XML before any parser sees it: entity declarations (billion laughs) and external entities (XXE)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as StdET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from aggregator.sources.base import ParseError

# No feed or XML export has a legitimate use for declaring entities; the loose parsers some
# libraries fall back to on malformed XML must never see one either.
ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


def check_xml(content: bytes, url: str) -> None:
    """Raise ``ParseError`` when ``content`` declares entities or references external ones.

    defusedxml parses the document with entity declarations, external entities and external DTDs
    forbidden; a plain syntax error is left to the lenient parser that follows (feeds are often
    malformed), but an entity declaration anywhere in the bytes is refused.
    """
    if ENTITY_DECLARATION.search(content):
        raise ParseError(f"{url}: XML declares entities (refused: entity expansion and external entities are unsafe)")
    try:
        fromstring(content, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ParseError(f"{url}: unsafe XML refused ({type(exc).__name__})") from None
    except (StdET.ParseError, ValueError):
        pass  # malformed but harmless: the adapter's own parser reports it
