"""Pagination shared by the kinds: one loop, small strategies (next link, cursor, offset, page number).

Each strategy says what to request after a page (or None to stop); ``paginate`` runs them with the
same guards for every kind: at most ``max_pages``, never the same request twice, and a page whose
body was already seen (a saved response read as a file, a server ignoring the offset) ends paging
with a note in the run's warnings instead of reading the same records again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import urlparse

from aggregator.http import Fetched, HttpClient, resolve_url


@dataclass(frozen=True)
class Request:
    """One page to ask for: a URL, its query parameters and extra headers."""

    url: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] | None = None

    def key(self) -> str:
        """What identifies the request (headers aside)."""
        return self.url + "?" + repr(sorted((k, repr(v)) for k, v in self.params.items()))


class Paginator(Protocol):
    """What to request after ``page`` (the response to ``request``), or None when it was the last."""

    def next(self, page: Fetched, request: Request) -> Request | None:
        """The next request, or None."""
        ...


@dataclass
class NextLink:
    """The next page's URL is given in each page (``next`` in JSON, ``a[rel=next]`` in HTML)."""

    link: Callable[[Fetched], str | None]

    def next(self, page: Fetched, request: Request) -> Request | None:
        """The linked page, resolved against this one; a link with a query string replaces the parameters."""
        target = self.link(page)
        if not target:
            return None
        url = resolve_url(str(target), page.url)
        return Request(url, {} if urlparse(url).query else dict(request.params), request.headers)


@dataclass
class Cursor:
    """The response names a cursor sent back as a parameter (OpenAgenda's ``after``)."""

    read: Callable[[Fetched], Any]
    param: str

    def next(self, page: Fetched, request: Request) -> Request | None:
        """The same request with the new cursor; none when the response gives no cursor."""
        cursor = self.read(page)
        return replace(request, params={**request.params, self.param: cursor}) if cursor else None


@dataclass
class OffsetLimit:
    """``offset`` advanced by ``limit`` until ``total`` (or an empty page, or ``cap``) is reached."""

    count: Callable[[Fetched], int]
    total: Callable[[Fetched], int | None]
    limit: int
    cap: int | None = None
    offset_param: str = "offset"

    def next(self, page: Fetched, request: Request) -> Request | None:
        """The following offset, or None at the end."""
        offset = int(request.params.get(self.offset_param, 0)) + self.limit
        total = self.total(page)
        if not self.count(page) or (total is not None and offset >= total):
            return None
        if self.cap is not None and offset + self.limit > self.cap:
            return None
        return replace(request, params={**request.params, self.offset_param: offset})


@dataclass
class PageNumber:
    """A page-number parameter, increased until a page has no records."""

    count: Callable[[Fetched], int]
    param: str

    def next(self, page: Fetched, request: Request) -> Request | None:
        """The following page number, or None after an empty page."""
        if not self.count(page):
            return None
        return replace(request, params={**request.params, self.param: int(request.params[self.param]) + 1})


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def paginate(http: HttpClient, first: Request, paginator: Paginator | None, max_pages: int) -> list[Fetched]:
    """Fetch ``first`` and the pages ``paginator`` leads to (see the module docstring).

    Args:
        http: The source's client; notes about paging go to ``http.notes``.
        first: The first request.
        paginator: The strategy, or None for a single page.
        max_pages: Most pages fetched.

    Returns:
        The pages, in order, each once.
    """
    pages: list[Fetched] = []
    seen_requests: set[str] = set()
    seen_bodies: set[str] = set()
    request: Request | None = first
    while request is not None:
        if len(pages) >= max_pages:
            http.notes.append(f"{first.url}: paging stopped after max_pages ({max_pages}); later pages were not read")
            break
        seen_requests.add(request.key())
        page = http.get(request.url, params=request.params or None, headers=request.headers)
        digest = _digest(page.content)
        if digest in seen_bodies:
            http.notes.append(
                f"{page.url}: the same page came back for another request; paging stopped "
                "(a file or a server that ignores paging parameters is read once)"
            )
            break
        seen_bodies.add(digest)
        pages.append(page)
        request = paginator.next(page, request) if paginator is not None else None
        if request is not None and request.key() in seen_requests:
            break  # a "next" pointing back at a page already read: stop rather than loop
    return pages
