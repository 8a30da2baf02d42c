"""The one HTTP client every adapter fetches through.

Timeouts, retries with exponential backoff on 429 and 5xx (honouring `Retry-After`), a rate
limit between requests (the SEC asks for at most 10 a second), a descriptive User-Agent and a
cap on the bytes a response may bring (checked after content decoding, so a compressed bomb is
cut off too). Sleeping and the clock are injectable so tests run without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from chipcast import __version__
from chipcast.ingest.errors import FetchError

RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})
DEFAULT_USER_AGENT = f"chipcast/{__version__} (public-records ingest)"
MAX_RESPONSE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class HttpSettings:
    """How politely and how patiently to fetch."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout_s: float = 30.0
    retries: int = 4
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    rate_per_second: float = 5.0
    max_bytes: int = MAX_RESPONSE_BYTES


@dataclass(frozen=True)
class Response:
    url: str
    content: bytes
    content_type: str
    attempts: int


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


class HttpClient:
    """A rate-limited, retrying GET for public records."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        self._next_start = 0.0
        self.requests = 0
        self._client = httpx.Client(
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.timeout_s),
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait_for_slot(self) -> None:
        now = self._clock()
        if self._next_start > now:
            self._sleep(self._next_start - now)
            now = self._next_start
        self._next_start = now + 1.0 / self.settings.rate_per_second

    def _backoff(self, attempt: int, response: httpx.Response | None) -> float:
        hinted = _retry_after(response) if response is not None else None
        delay = hinted if hinted is not None else self.settings.backoff_s * 2**attempt
        return min(delay, self.settings.max_backoff_s)

    def get(self, url: str, params: list[tuple[str, str]] | None = None) -> Response:
        """GET `url`; raise `FetchError` naming the URL and what went wrong."""
        s = self.settings
        last = ""
        for attempt in range(s.retries + 1):
            self._wait_for_slot()
            self.requests += 1
            try:
                with self._client.stream("GET", url, params=params) as r:
                    if r.status_code in RETRY_STATUSES:
                        last = f"HTTP {r.status_code}"
                        if attempt < s.retries:
                            self._sleep(self._backoff(attempt, r))
                            continue
                        break
                    if r.status_code >= 400:
                        raise FetchError(f"{r.url}: HTTP {r.status_code}{_hint(r.status_code)}")
                    declared = r.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > s.max_bytes:
                        raise FetchError(
                            f"{r.url}: {declared} bytes, over the {s.max_bytes}-byte limit: refused"
                        )
                    chunks, n = [], 0
                    for chunk in r.iter_bytes():
                        n += len(chunk)
                        if n > s.max_bytes:
                            raise FetchError(
                                f"{r.url}: more than the {s.max_bytes}-byte limit: refused"
                            )
                        chunks.append(chunk)
                    return Response(
                        url=str(r.url),
                        content=b"".join(chunks),
                        content_type=r.headers.get("content-type", ""),
                        attempts=attempt + 1,
                    )
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                if attempt < s.retries:
                    self._sleep(self._backoff(attempt, None))
                    continue
                break
        raise FetchError(f"{url}: {last} after {s.retries + 1} attempts")


def _hint(status: int) -> str:
    if status == 403:
        return (
            " (forbidden: the SEC refuses clients without a descriptive User-Agent with contact"
            " details, or above 10 requests a second)"
        )
    if status == 404:
        return " (not found)"
    return ""
