"""The one HTTP client every adapter uses: timeouts, retries, User-Agent, size cap, local files."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from aggregator.config import HttpSettings

RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_REDIRECTS = 10


class FetchError(RuntimeError):
    """A resource could not be fetched; the message names the URL and the cause."""


@dataclass(frozen=True)
class Fetched:
    """A fetched resource.

    Attributes:
        url: Final URL after redirects (``file://`` URL for local files).
        content: Body bytes, never decoded here.
        status: HTTP status (200 for local files).
        content_type: The Content-Type header, if any.
        elapsed_s: Time taken, in seconds.
    """

    url: str
    content: bytes
    status: int = 200
    content_type: str | None = None
    elapsed_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

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
    """A requests session configured from ``HttpSettings``.

    One client per source keeps settings (headers, timeouts) separate while sharing code.
    """

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        self.session = requests.Session()
        self.session.max_redirects = MAX_REDIRECTS
        self.session.headers.update({"User-Agent": self.settings.user_agent, **self.settings.headers})
        retry = Retry(
            total=self.settings.retries,
            connect=self.settings.retries,
            read=self.settings.retries,
            status=self.settings.retries,
            backoff_factor=self.settings.backoff_s,
            backoff_jitter=self.settings.backoff_s / 2,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()

    def get(
        self, url: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> Fetched:
        """Fetch ``url`` (http, https or file) and return its bytes.

        Raises:
            FetchError: On network errors, non-2xx statuses, or bodies over ``max_bytes``.
        """
        if urlparse(url).scheme == "file":
            return self._read_file(url)
        started = time.monotonic()
        try:
            with self.session.get(
                url,
                params=params,
                headers=dict(headers) if headers else None,
                timeout=(self.settings.timeout_s, self.settings.timeout_s),
                stream=True,
            ) as resp:
                if resp.status_code >= 400:
                    raise FetchError(f"{resp.url}: HTTP {resp.status_code} {resp.reason}")
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.settings.max_bytes:
                    raise FetchError(
                        f"{resp.url}: response of {declared} bytes exceeds the limit of {self.settings.max_bytes} bytes"
                    )
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_content(chunk_size=65536):
                    size += len(chunk)
                    if size > self.settings.max_bytes:
                        raise FetchError(f"{resp.url}: response exceeds the limit of {self.settings.max_bytes} bytes")
                    chunks.append(chunk)
                return Fetched(
                    url=resp.url,
                    content=b"".join(chunks),
                    status=resp.status_code,
                    content_type=resp.headers.get("Content-Type"),
                    elapsed_s=time.monotonic() - started,
                    headers=dict(resp.headers),
                )
        except requests.exceptions.RetryError as exc:
            raise FetchError(f"{url}: gave up after {self.settings.retries} retries ({exc})") from None
        except requests.exceptions.TooManyRedirects:
            raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects") from None
        except requests.exceptions.Timeout:
            raise FetchError(f"{url}: timed out after {self.settings.timeout_s} s") from None
        except requests.exceptions.ConnectionError as exc:
            raise FetchError(f"{url}: connection failed ({type(exc).__name__})") from None
        except requests.exceptions.RequestException as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None

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
