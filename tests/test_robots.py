"""robots.txt per RFC 9309: wildcards, end anchors, longest match, ties, user-agent groups, crawl delay."""

from __future__ import annotations

import pytest

from aggregator.robots import RobotsRules

UA = "aggregator/0.1 (+https://github.com/aggregator/aggregator; events statistics)"


def _rules(text: str, status: int = 200, user_agent: str = UA) -> RobotsRules:
    return RobotsRules(user_agent, lambda url: (status, text.encode()))


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/events/2026?session=abc", False),  # Disallow: /*?session=
        ("/events/2026?page=2", True),
        ("/docs/programme.pdf", False),  # Disallow: /*.pdf$
        ("/docs/programme.pdf?v=2", True),  # '$' anchors the end: not this one
        ("/docs/programme.pdf.html", True),
        ("/agenda", False),  # Disallow: /agenda
        ("/agenda/public", True),  # Allow: /agenda/public, longer than /agenda: it wins
        ("/agenda/public/2026", True),
        ("/agenda/private", False),
        ("/events", True),  # no rule
    ],
)
def test_wildcards_end_anchor_and_longest_match(path: str, allowed: bool) -> None:
    rules = _rules(
        "User-agent: *\nDisallow: /*?session=\nDisallow: /*.pdf$\nDisallow: /agenda\nAllow: /agenda/public\n"
    )
    assert (rules.refusal(f"https://example.org{path}") is None) is allowed


def test_allow_wins_a_tie_with_disallow() -> None:
    rules = _rules("User-agent: *\nDisallow: /page\nAllow: /page\n")
    assert rules.refusal("https://example.org/page") is None


def test_the_most_specific_user_agent_group_applies_alone() -> None:
    text = "User-agent: *\nDisallow: /\n\nUser-agent: aggregator\nAllow: /\nDisallow: /drafts\n"
    ours = _rules(text)
    assert ours.refusal("https://example.org/agenda") is None  # our group, not '*'
    assert ours.refusal("https://example.org/drafts/1") == "disallowed by robots.txt"
    other = _rules(text, user_agent="otherbot/2.0")
    assert other.refusal("https://example.org/agenda") == "disallowed by robots.txt"


def test_group_names_match_case_insensitively_and_crawl_delay_is_read_from_our_group() -> None:
    rules = _rules("User-agent: *\nCrawl-delay: 10\n\nUser-agent: AGGREGATOR\nCrawl-delay: 2.5\n")
    assert rules.crawl_delay("https://example.org/") == 2.5


def test_statuses_stand_for_rules() -> None:
    assert _rules("", status=404).refusal("https://example.org/x") is None  # none published: all allowed
    assert "HTTP 503" in (_rules("", status=503).refusal("https://example.org/x") or "")


def test_robots_is_fetched_once_per_origin() -> None:
    calls: list[str] = []

    def fetch(url: str) -> tuple[int, bytes]:
        calls.append(url)
        return 200, b"User-agent: *\nDisallow: /x\n"

    rules = RobotsRules(UA, fetch)
    for path in ("/a", "/b", "/x"):
        rules.refusal(f"https://example.org{path}")
    rules.refusal("https://other.example.org/a")
    assert calls == ["https://example.org/robots.txt", "https://other.example.org/robots.txt"]
