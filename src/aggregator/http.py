"""The one HTTP client every adapter uses: robots.txt, rate limits, cache, retries, timeouts, size cap."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urljoin, urlparse

import requests
import requests_cache
from requests import Response
from requests_cache.serializers import SerializerPipeline, pickle_serializer
from urllib3.exceptions import DecodeError, NewConnectionError, ProtocolError, ReadTimeoutError

from aggregator.deadline import BoundedRetry, Deadline, DeadlineError, WatchedAdapter
from aggregator.robots import RobotsRules
from aggregator.secrets import Secrets
from aggregator.settings import HttpSettings
from aggregator.throttle import LIMITER

RETRY_STATUSES = (429, 500, 502, 503, 504)


ROBOTS_MAX_AGE_S = 24 * 3600


class _SharedSerializer(SerializerPipeline):
    """requests-cache's pickle serializer, shared by every cache instead of copied for each.

    A copy builds a new cattrs converter (about 3 ms); one client is made per source and run, and
    the converter keeps no state between responses.
    """

    def copy(self) -> SerializerPipeline:
        """This very pipeline."""
        return self


SERIALIZER = _SharedSerializer(pickle_serializer.copy().stages, name="pickle", is_binary=True)


class FetchError(RuntimeError):
    """A resource could not be fetched; the message names the URL and the cause.

    Attributes:
        status: The HTTP status that made the fetch fail, when it was one.
        transient: Whether trying again later may succeed (network errors, timeouts, 429 and 5xx);
            a robots.txt refusal, a 4xx, an oversize body or a passed deadline will not.
    """

    def __init__(self, message: str, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


@dataclass(frozen=True)
class Fetched:
    """A fetched resource.

    Attributes:
        url: Final URL after redirects (``file://`` URL for local files).
        content: Body bytes, never decoded here.
        status: HTTP status (200 for local files).
        content_type: The Content-Type header, if any.
        elapsed_s: Time taken, in seconds.
        headers: Response headers.
        from_cache: True when the body came from the HTTP cache (the server answered 304).
    """

    url: str
    content: bytes
    status: int = 200
    content_type: str | None = None
    elapsed_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    from_cache: bool = False

    @property
    def charset(self) -> str | None:
        """Charset declared in the Content-Type header, if any."""
        if not self.content_type:
            return None
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"' ").lower()
        return None


@dataclass
class FetchStats:
    """What one client did: requests sent, answered from the cache, bytes received, last status."""

    requests: int = 0
    cache_hits: int = 0
    bytes: int = 0
    last_status: int | None = None

    def count(self, resp: Response) -> None:
        """Record one response."""
        self.requests += 1
        self.cache_hits += bool(getattr(resp, "from_cache", False))
        self.bytes += len(resp.content or b"")
        self.last_status = resp.status_code


def _host(url: str) -> str:
    return urlparse(url).netloc.lower()


def is_private_host(host: str) -> bool:
    """Whether ``host`` is, or resolves to, a loopback, private, link-local or otherwise internal address."""
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False  # unresolvable: the request itself will fail with a clear error
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    return any(
        a.is_loopback or a.is_private or a.is_link_local or a.is_reserved or a.is_multicast or a.is_unspecified
        for a in addresses
    )


def resolve_url(url: str, base: str | None = None) -> str:
    """Make ``url`` absolute against ``base``; bare paths become ``file://`` URLs.

    Args:
        url: An http(s) URL, a file URL, or a path.
        base: URL or path it is relative to (a page URL or the config file).
    """
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https", "file"):
        return url
    if base is not None:
        base_parsed = urlparse(base)
        if base_parsed.scheme in ("http", "https", "file"):
            return urljoin(base, url)
        return (Path(base).parent / url).resolve().as_uri()
    return Path(url).resolve().as_uri()


class HttpClient:
    """A requests session configured from ``HttpSettings``: the one place that talks HTTP.

    Polite and thrifty: robots.txt obeyed, requests to one host spaced and bounded (process-wide),
    an identifying User-Agent, retries with exponential backoff and jitter on connection errors,
    429 and 5xx (``Retry-After`` honoured), connect and read timeouts, bounded redirects, bodies
    read up to ``max_bytes`` and no further, and, with ``cache_path``, responses kept between runs
    and revalidated with ``If-None-Match`` / ``If-Modified-Since`` (an unchanged page costs a 304).
    One client per source; ``stats`` counts what it did.
    """

    def __init__(
        self, settings: HttpSettings | None = None, cache_path: Path | None = None, secrets: Secrets | None = None
    ) -> None:
        self.settings = settings or HttpSettings()
        self.secrets = secrets or Secrets()
        self.stats = FetchStats()
        self.notes: list[str] = []  # what a source's fetch wants the run's warnings to say (paging stopped…)
        self._private_ok = self.settings.allow_private
        # One client per source and run: its deadline spans every page, robots.txt and retry.
        self.deadline = Deadline(self.settings.deadline_s, self.settings.retry_after_max_s)
        self.session: requests.Session
        if cache_path is not None and self.settings.cache:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            # Stored, but stale at once: every use revalidates, so nothing old is ever served.
            self.session = requests_cache.CachedSession(
                str(cache_path),
                backend="sqlite",
                serializer=SERIALIZER,
                expire_after=requests_cache.EXPIRE_IMMEDIATELY,
                # RFC 9309 lets a crawler reuse robots.txt for up to 24 h: no request, no spacing.
                urls_expire_after={"*/robots.txt": ROBOTS_MAX_AGE_S},
                allowable_codes=(200,),
                allowable_methods=("GET",),
                stale_if_error=False,
            )
        else:
            self.session = requests.Session()
        self.session.max_redirects = self.settings.max_redirects
        self.session.headers.update({"User-Agent": self.settings.user_agent_header, **self.settings.headers})
        self.session.hooks["response"].extend([self._check_redirect, self._read_bounded])
        retry = BoundedRetry(
            total=self.settings.retries,
            connect=self.settings.retries,
            read=self.settings.retries,
            status=self.settings.retries,
            redirect=False,  # requests follows redirects itself, bounded by max_redirects
            backoff_factor=self.settings.backoff_s,
            backoff_jitter=self.settings.backoff_s / 2,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = WatchedAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.robots = RobotsRules(self.settings.user_agent_header, self._fetch_robots)

    def close(self) -> None:
        """Release pooled connections and the cache file."""
        self.session.close()

    def _check_redirect(self, resp: Response, *args: Any, **kwargs: Any) -> Response:
        """Response hook: refuse redirects to non-HTTP schemes, and to private addresses from a public source.

        A page on the internet must not be able to point the fetcher at ``file://``, loopback or the
        internal network (SSRF). A source that is itself on such an address (declared local) may.
        """
        if not resp.is_redirect:
            return resp
        target = urljoin(resp.url, resp.headers.get("Location", ""))
        parsed = urlparse(target)
        if parsed.scheme not in ("http", "https"):
            resp.close()
            raise FetchError(f"{resp.url}: redirect to {parsed.scheme or 'a schemeless'}:// URL refused")
        if not self._private_ok and is_private_host(parsed.hostname or ""):
            resp.close()
            raise FetchError(
                f"{resp.url}: redirect to the private or loopback address {parsed.hostname} refused "
                "(set http.allow_private: true for a source that is meant to be local)"
            )
        return resp

    def _read_bounded(self, resp: Response, *args: Any, **kwargs: Any) -> requests.Response:
        """Response hook: read the body now, at most ``max_bytes`` (before any cache stores it)."""
        if getattr(resp, "from_cache", False) or getattr(resp, "_content_consumed", False):
            return resp  # requests-cache runs the hooks a second time, on a body already read
        limit = self.settings.max_bytes
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            resp.close()
            raise FetchError(f"{resp.url}: response of {declared} bytes exceeds the limit of {limit} bytes")
        try:
            data = resp.raw.read(limit + 1, decode_content=True) if resp.raw is not None else b""
        except (ProtocolError, ReadTimeoutError, DecodeError, OSError) as exc:
            resp.close()
            if self.deadline.passed:
                raise DeadlineError from None
            raise FetchError(
                f"{resp.url}: body cut short or unreadable ({type(exc).__name__})", transient=True
            ) from None
        if self.deadline.passed:  # a body without a length, cut by the deadline, is not a whole body
            resp.close()
            raise DeadlineError
        if len(data) > limit:
            resp.close()
            raise FetchError(f"{resp.url}: response exceeds the limit of {limit} bytes")
        resp._content = data
        resp._content_consumed = True  # type: ignore[attr-defined]
        return resp

    def _fetch_robots(self, url: str) -> tuple[int, bytes]:
        if isinstance(self.session, requests_cache.CachedSession):
            # Looked up in the cache directly: a whole cached request costs more than the page's.
            key = self.session.cache.create_key(requests.Request("GET", url).prepare())
            kept = self.session.cache.get_response(key)
            if kept is not None and not kept.is_expired and kept.status_code == 200:
                return kept.status_code, kept.content  # under 24 h old: not even a request
        with LIMITER.slot(_host(url), self.settings.min_interval_s, self.settings.host_concurrency):
            resp = self._send(url)
        self.stats.count(resp)
        return resp.status_code, resp.content

    def _send(
        self, url: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        """One GET through the session, its failures turned into ``FetchError`` naming the cause."""
        extra: dict[str, Any] = {}
        if isinstance(self.session, requests_cache.CachedSession) and len(self.secrets):
            extra = self._cache_without_secrets(url, params, headers)
        limit = self.settings.timeout_s
        try:
            with self.deadline.guard():
                wait = min(limit, max(self.deadline.remaining(), 0.001))
                return self.session.get(
                    url, params=params, headers=dict(headers) if headers else None, timeout=(wait, wait), **extra
                )
        except DeadlineError:
            raise self._deadline_error(url) from None
        except requests.exceptions.RequestException as exc:
            if self.deadline.passed or self.deadline.remaining() <= 0:
                raise self._deadline_error(url) from None
            raise _request_error(url, exc, self.settings) from None

    def _deadline_error(self, url: str) -> FetchError:
        return FetchError(
            f"{url}: the source's deadline of {self.deadline.seconds:g} s passed (http.deadline_s); "
            "its requests were stopped"
        )

    def _cache_without_secrets(
        self, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None
    ) -> dict[str, Any]:
        """Keep secrets out of the cache file.

        Parameters and headers holding one are redacted from what is stored (requests-cache
        ``ignored_parameters``); a secret anywhere else in the URL means no caching at all.
        """
        assert isinstance(self.session, requests_cache.CachedSession)
        query = parse_qsl(urlparse(url).query, keep_blank_values=True)
        names = {k for k, v in [*query, *(params or {}).items()] if self.secrets.contains(str(v))}
        names |= {k for k, v in {**self.session.headers, **(headers or {})}.items() if self.secrets.contains(str(v))}
        rest = urlparse(url)._replace(query="").geturl()
        if self.secrets.contains(rest):
            return {"expire_after": requests_cache.DO_NOT_CACHE}
        self.session.settings.ignored_parameters = sorted(names | set(requests_cache.DEFAULT_IGNORED_PARAMS))
        return {}

    def get(
        self, url: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> Fetched:
        """Fetch ``url`` (http, https or file) and return its bytes.

        Raises:
            FetchError: On network errors, non-2xx statuses, robots.txt refusals, bodies over
                ``max_bytes`` or cut short, and too many redirects.
        """
        if urlparse(url).scheme == "file":
            return self._read_file(url)
        if self.settings.respect_robots:
            refusal = self.robots.refusal(url)
            if refusal:
                raise FetchError(f"{url}: {refusal} (set http.respect_robots: false only with the site's permission)")
        interval = max(
            self.settings.min_interval_s, self.robots.crawl_delay(url) if self.settings.respect_robots else 0
        )
        started = time.monotonic()
        # A source on a private or loopback address is local by declaration: its redirects may stay there.
        self._private_ok = self.settings.allow_private or is_private_host(urlparse(url).hostname or "")
        with LIMITER.slot(_host(url), interval, self.settings.host_concurrency):
            resp = self._send(url, params, headers)
        self.stats.count(resp)
        if resp.status_code >= 400:
            raise FetchError(
                f"{resp.url}: HTTP {resp.status_code} {resp.reason}",
                status=resp.status_code,
                transient=resp.status_code in RETRY_STATUSES,
            )
        return Fetched(
            url=resp.url,
            content=resp.content,
            status=resp.status_code,
            content_type=resp.headers.get("Content-Type"),
            elapsed_s=time.monotonic() - started,
            headers=dict(resp.headers),
            from_cache=bool(getattr(resp, "from_cache", False)),
        )

    def _read_file(self, url: str) -> Fetched:
        path = Path(unquote(urlparse(url).path))
        started = time.monotonic()
        try:
            size = path.stat().st_size
            if size > self.settings.max_bytes:
                raise FetchError(f"{url}: file of {size} bytes exceeds the limit of {self.settings.max_bytes} bytes")
            content = path.read_bytes()
        except OSError as exc:
            raise FetchError(f"{url}: cannot read file ({exc.strerror})") from None
        return Fetched(url=url, content=content, elapsed_s=time.monotonic() - started)


def _request_error(url: str, exc: requests.exceptions.RequestException, settings: HttpSettings) -> FetchError:
    """``exc`` of requests as a ``FetchError`` naming the cause, transient when trying later may work."""
    if isinstance(exc, requests.exceptions.RetryError):
        return FetchError(f"{url}: gave up after {settings.retries} retries ({exc})", transient=True)
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return FetchError(f"{url}: more than {settings.max_redirects} redirects")
    if isinstance(exc, requests.exceptions.Timeout):
        return FetchError(f"{url}: timed out after {settings.timeout_s:g} s", transient=True)
    if isinstance(exc, requests.exceptions.ConnectionError):
        # Retries exhausted on a read timeout surface as a ConnectionError: say what happened.
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(reason, ReadTimeoutError):
            return FetchError(f"{url}: timed out after {settings.timeout_s:g} s", transient=True)
        cause = "refused" if isinstance(reason, NewConnectionError) else type(reason or exc).__name__
        return FetchError(f"{url}: connection failed ({cause})", transient=True)
    return FetchError(f"{url}: {type(exc).__name__}: {exc}")
