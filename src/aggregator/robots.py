"""robots.txt rules (RFC 9309, read by Protego): fetched once per origin, then consulted per URL."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlparse

from protego import Protego

# Fetches a robots.txt: its HTTP status and body; raises when the server cannot be reached.
RobotsFetch = Callable[[str], tuple[int, bytes]]


class RobotsRules:
    """Whether a URL may be fetched, from its origin's robots.txt.

    Parsed by Protego (the parser Scrapy uses), which follows RFC 9309 where the standard library's
    does not: ``*`` and ``$`` in paths, the longest match winning, ``Allow`` winning a tie, the
    group of the most specific user-agent. A robots.txt answering 4xx (none published) allows
    everything; a server error (5xx) means complete disallow. A server that cannot be reached at
    all raises the fetcher's error.
    """

    def __init__(self, user_agent: str, fetch: RobotsFetch) -> None:
        self.user_agent = user_agent
        self._fetch = fetch
        self._rules: dict[str, Protego | int] = {}

    def _origin_rules(self, url: str) -> Protego | int:
        """The parsed rules, or the HTTP status (4xx or 5xx) that stands for them."""
        parsed = urlparse(url)
        origin = f"{parsed.scheme}://{parsed.netloc}"
        if origin not in self._rules:
            status, body = self._fetch(f"{origin}/robots.txt")
            if status >= 400:
                self._rules[origin] = status
            else:
                self._rules[origin] = Protego.parse(body.decode("utf-8", errors="replace"))
        return self._rules[origin]

    def refusal(self, url: str) -> str | None:
        """Why robots.txt forbids our User-Agent to fetch ``url``, or None when it may."""
        rules = self._origin_rules(url)
        if isinstance(rules, int):
            return f"robots.txt answered HTTP {rules}: everything disallowed (RFC 9309)" if rules >= 500 else None
        return None if rules.can_fetch(url, self.user_agent) else "disallowed by robots.txt"

    def crawl_delay(self, url: str) -> float:
        """The ``Crawl-delay`` robots.txt asks of us for ``url``'s host, or 0."""
        rules = self._origin_rules(url)
        if isinstance(rules, int):
            return 0.0
        delay = rules.crawl_delay(self.user_agent)
        return float(delay) if delay else 0.0
