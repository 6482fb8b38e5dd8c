"""Identity-Aware Proxy assertions: the `X-Goog-IAP-JWT-Assertion` header IAP adds to every
request it lets through, an ES256 JWT signed with Google's IAP keys. The console checks it
itself, so a request that reaches the function some other way is refused.

Google's keys are fetched once per instance and kept (`IapKeys`): for the lifetime the
answer's Cache-Control names (an hour when it names none, a day at most), and fetched again
early when an assertion names a key id the kept set does not have (Google rotates its keys).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from vss.errors import RetryableError, Unauthenticated

HEADER = "X-Goog-IAP-JWT-Assertion"
CERTS_URL = "https://www.gstatic.com/iap/verify/public_key"
ISSUER = "https://cloud.google.com/iap"
# IAP stamps `iat` with its own clock; a Cloud Run instance a few seconds behind would
# otherwise refuse a fresh assertion as "used too early".
CLOCK_SKEW_SECONDS = 10

DEFAULT_LIFETIME_SECONDS = 3600.0  # when the answer names no max-age
MAX_LIFETIME_SECONDS = 86400.0
# An unknown key id fetches again at most this often, so assertions forged with made-up key
# ids cannot turn every request into a fetch from Google.
REFETCH_INTERVAL_SECONDS = 30.0
FETCH_TIMEOUT_SECONDS = 10.0

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class FetchedKeys:
    """One answer of Google's key endpoint."""

    keys: Mapping[str, str]  # key id -> PEM public key
    max_age_seconds: float | None  # its Cache-Control max-age; None when it names none


def max_age(cache_control: str) -> float | None:
    """The max-age of a Cache-Control header value, in seconds (None when absent)."""
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else None


def fetch_google_keys() -> FetchedKeys:
    """Google's published IAP keys, with how long the answer may be kept."""
    import urllib.request

    unavailable = "Google's Identity-Aware Proxy keys could not be fetched; try again."
    try:
        with urllib.request.urlopen(CERTS_URL, timeout=FETCH_TIMEOUT_SECONDS) as answer:
            body = json.loads(answer.read())
            cache_control = answer.headers.get("Cache-Control") or ""
    except (OSError, ValueError) as exc:  # URLError and timeouts are OSErrors
        raise RetryableError(unavailable, details={"url": CERTS_URL}) from exc
    if not isinstance(body, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in body.items()):
        raise RetryableError(unavailable, details={"url": CERTS_URL})
    return FetchedKeys(body, max_age(cache_control))


class IapKeys:
    """Google's IAP keys, kept in process for a bounded time. Safe to share between the
    threads of an instance: one fetch at a time, the others wait for its result."""

    def __init__(self, fetch: Callable[[], FetchedKeys] = fetch_google_keys,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: Mapping[str, str] = {}
        self._fetched_at = float("-inf")
        self._expires_at = float("-inf")

    def for_key_id(self, key_id: str | None) -> Mapping[str, str]:
        """The key set to check an assertion signed with `key_id` against: the kept one while
        it lasts and knows that id, else a fresh one (a failed fetch is a RetryableError)."""
        with self._lock:
            now = self._clock()
            expired = now >= self._expires_at
            unknown = key_id is not None and key_id not in self._keys
            if expired or (unknown and now - self._fetched_at >= REFETCH_INTERVAL_SECONDS):
                fetched = self._fetch()
                lifetime = (DEFAULT_LIFETIME_SECONDS if fetched.max_age_seconds is None else
                            min(max(fetched.max_age_seconds, REFETCH_INTERVAL_SECONDS),
                                MAX_LIFETIME_SECONDS))
                self._keys = dict(fetched.keys)
                self._fetched_at, self._expires_at = now, now + lifetime
            return self._keys


# The instance's keys: every request of every console app in the process shares them.
GOOGLE_KEYS = IapKeys()


def verify_assertion(assertion: str | None, audience: str,
                     certs: Mapping[str, str] | None = None, *,
                     keys: IapKeys | None = None) -> str:
    """The identity (email, else subject) of a valid assertion for `audience`. `certs` (key id
    to PEM public key) replaces Google's published keys: tests sign with a local key; `keys`
    replaces the instance's kept set of Google's keys."""
    from google.auth import exceptions, jwt

    if not assertion:
        raise Unauthenticated("Requests must come through Identity-Aware Proxy.")
    try:
        if certs is None:
            key_id = jwt.decode_header(assertion).get("kid")  # type: ignore[no-untyped-call]
            certs = (keys or GOOGLE_KEYS).for_key_id(key_id if isinstance(key_id, str) else None)
        claims = jwt.decode(  # type: ignore[no-untyped-call]
            assertion, certs=dict(certs), audience=audience,
            clock_skew_in_seconds=CLOCK_SKEW_SECONDS)
    except (ValueError, exceptions.GoogleAuthError):
        raise Unauthenticated("The Identity-Aware Proxy assertion is not valid.") from None
    if claims.get("iss") != ISSUER or not (claims.get("email") or claims.get("sub")):
        raise Unauthenticated("The Identity-Aware Proxy assertion is not valid.")
    return str(claims.get("email") or claims["sub"])
