"""An offline verifier of Cloud Storage V4 signed URLs (GOOG4-RSA-SHA256).

fake-gcs-server takes any signed URL, so locally nothing checks what Cloud Storage would: this
rebuilds the canonical request and the string to sign from the URL, the method and the headers
the client will send, following Google's documented V4 signing process, checks the RSA
signature with the signer's public key, and checks the URL's validity window against a given
time. It shares no code with google-cloud-storage's signer, so the two can disagree.

Canonical request (lines joined by newlines):
    method, path (percent-encoded), query (sorted, encoded, without X-Goog-Signature),
    one `name:value` line per signed header, an empty line, the signed header names joined by
    `;`, and `UNSIGNED-PAYLOAD`.
String to sign: `GOOG4-RSA-SHA256`, X-Goog-Date, the credential scope
(`YYYYMMDD/location/storage/goog4_request`), the hex SHA-256 of the canonical request.
Signature: RSASSA-PKCS1-v1_5 with SHA-256 over the string to sign, hex in X-Goog-Signature.
A URL can be used from 15 minutes before X-Goog-Date until X-Goog-Expires seconds after it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

ALGORITHM = "GOOG4-RSA-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_EXPIRES_SECONDS = 7 * 24 * 3600
EARLY_USE = timedelta(minutes=15)
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_REQUIRED = ("X-Goog-Algorithm", "X-Goog-Credential", "X-Goog-Date", "X-Goog-Expires",
             "X-Goog-SignedHeaders", "X-Goog-Signature")


class SignedUrlRejected(Exception):
    """The URL would not be accepted; the subclass says which check failed."""


class MalformedSignedUrl(SignedUrlRejected):
    """A V4 parameter is missing or not in its documented form."""


class MissingSignedHeader(SignedUrlRejected):
    """The request leaves out a header the signature covers."""


class SignatureMismatch(SignedUrlRejected):
    """The signature is not the key's signature of this request."""

    def __init__(self, message: str, canonical_request: str) -> None:
        super().__init__(f"{message}\n--- canonical request ---\n{canonical_request}")
        self.canonical_request = canonical_request


class SignedUrlExpired(SignedUrlRejected):
    """The URL's lifetime ended before `now`."""


class SignedUrlNotYetValid(SignedUrlRejected):
    """`now` is more than 15 minutes before the URL's X-Goog-Date."""


@dataclass(frozen=True)
class VerifiedUrl:
    signer_email: str
    signed_at: datetime
    expires_at: datetime
    signed_headers: tuple[str, ...]
    canonical_request: str

    @property
    def lifetime(self) -> timedelta:
        return self.expires_at - self.signed_at


def _encode(text: str, keep: str = "") -> str:
    """Percent-encode UTF-8, leaving the RFC 3986 unreserved characters (and `keep`) as is."""
    return quote(text, safe=keep)


def canonical_path(raw_path: str) -> str:
    """The path as Cloud Storage canonicalises it: decoded, then encoded again, `/` kept."""
    return _encode(unquote(raw_path or "/"), keep="/")


def canonical_query(params: list[tuple[str, str]]) -> str:
    """Every query parameter but the signature, encoded and sorted by name (then value)."""
    encoded = sorted((_encode(name), _encode(value)) for name, value in params
                     if name != "X-Goog-Signature")
    return "&".join(f"{name}={value}" for name, value in encoded)


def _header_value(value: str) -> str:
    return " ".join(value.split())


def canonical_headers(signed: list[str], sent: Mapping[str, str], host: str) -> str:
    """`name:value` lines of the signed headers, as the client sends them.

    Names are compared without case; a value is trimmed and its inner whitespace runs become
    one space. The Host header is the URL's unless the client sends its own.
    """
    values: dict[str, str] = {"host": host}
    by_name: dict[str, list[str]] = {}
    for name, value in sent.items():
        by_name.setdefault(name.strip().lower(), []).append(_header_value(value))
    values.update({name: ",".join(parts) for name, parts in by_name.items()})
    missing = [name for name in signed if name not in values]
    if missing:
        raise MissingSignedHeader(
            f"signed header(s) {', '.join(missing)} not sent; the signature covers "
            f"{';'.join(signed)}")
    return "".join(f"{name}:{values[name]}\n" for name in signed)


def canonical_request(url: str, method: str, headers: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    signed = dict(params).get("X-Goog-SignedHeaders", "").split(";")
    return "\n".join([
        method.upper(),
        canonical_path(parts.path),
        canonical_query(params),
        canonical_headers(signed, headers, parts.netloc),
        ";".join(signed),
        UNSIGNED_PAYLOAD,
    ])


def string_to_sign(signed_at: str, scope: str, request: str) -> str:
    return "\n".join([ALGORITHM, signed_at, scope,
                      hashlib.sha256(request.encode("utf-8")).hexdigest()])


def _single_params(url: str) -> dict[str, str]:
    params = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    names = [name for name, _ in params]
    for name in _REQUIRED:
        if names.count(name) != 1:
            raise MalformedSignedUrl(f"{name} must appear exactly once, "
                                     f"found {names.count(name)} times")
    return dict(params)


def _parse_date(value: str) -> datetime:
    try:
        return datetime.strptime(value, _DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise MalformedSignedUrl(f"X-Goog-Date {value!r} is not YYYYMMDD'T'HHMMSS'Z'") from None


def _parse_expires(value: str) -> int:
    if not re.fullmatch(r"[0-9]+", value) or not 1 <= int(value) <= MAX_EXPIRES_SECONDS:
        raise MalformedSignedUrl(f"X-Goog-Expires {value!r} is not a whole number of seconds "
                                 f"in 1..{MAX_EXPIRES_SECONDS}")
    return int(value)


def _credential(value: str, signed_at: datetime) -> tuple[str, str]:
    """(signer email, credential scope) from X-Goog-Credential, the scope checked."""
    pieces = value.rsplit("/", 4)
    if len(pieces) != 5 or not pieces[0]:
        raise MalformedSignedUrl(f"X-Goog-Credential {value!r} is not "
                                 "EMAIL/DATE/LOCATION/storage/goog4_request")
    email, date, location, service, terminator = pieces
    if date != signed_at.strftime("%Y%m%d"):
        raise MalformedSignedUrl(f"the credential scope's date {date} is not X-Goog-Date's day")
    if not location or service != "storage" or terminator != "goog4_request":
        raise MalformedSignedUrl(f"credential scope {'/'.join(pieces[1:])!r} is not "
                                 "DATE/LOCATION/storage/goog4_request")
    return email, "/".join(pieces[1:])


def _signed_header_names(value: str) -> list[str]:
    names = value.split(";")
    if names != sorted(set(names)) or any(name != name.strip().lower() or not name
                                          for name in names):
        raise MalformedSignedUrl(f"X-Goog-SignedHeaders {value!r} is not a sorted list of "
                                 "distinct lowercase names")
    if "host" not in names:
        raise MalformedSignedUrl("X-Goog-SignedHeaders must include host")
    return names


def verify_signed_url(
    url: str,
    *,
    method: str,
    headers: Mapping[str, str],
    public_key: RSAPublicKey,
    now: datetime,
) -> VerifiedUrl:
    """Check `url` as Cloud Storage would for a `method` request sending `headers` at `now`.

    Returns what was verified, or raises a `SignedUrlRejected` subclass naming the failed
    check. The signature is checked before the time, so a URL whose lifetime was edited is
    a mismatch whatever `now` is.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    params = _single_params(url)
    if params["X-Goog-Algorithm"] != ALGORITHM:
        raise MalformedSignedUrl(f"X-Goog-Algorithm is {params['X-Goog-Algorithm']!r}, "
                                 f"not {ALGORITHM}")
    signed_at = _parse_date(params["X-Goog-Date"])
    expires = _parse_expires(params["X-Goog-Expires"])
    email, scope = _credential(params["X-Goog-Credential"], signed_at)
    signed = _signed_header_names(params["X-Goog-SignedHeaders"])
    try:
        signature = bytes.fromhex(params["X-Goog-Signature"])
    except ValueError:
        raise MalformedSignedUrl("X-Goog-Signature is not hex") from None

    request = canonical_request(url, method, headers)
    message = string_to_sign(params["X-Goog-Date"], scope, request)
    try:
        public_key.verify(signature, message.encode("utf-8"), padding.PKCS1v15(),
                          hashes.SHA256())
    except InvalidSignature:
        raise SignatureMismatch(
            f"X-Goog-Signature is not this key's signature of the {method.upper()} request "
            f"rebuilt from the URL and headers (signer {email})", request) from None

    expires_at = signed_at + timedelta(seconds=expires)
    if now >= expires_at:
        raise SignedUrlExpired(f"expired at {expires_at.isoformat()} "
                               f"({params['X-Goog-Date']} + {expires} s); now is "
                               f"{now.astimezone(UTC).isoformat()}")
    if now < signed_at - EARLY_USE:
        raise SignedUrlNotYetValid(f"usable from {(signed_at - EARLY_USE).isoformat()}; now is "
                                   f"{now.astimezone(UTC).isoformat()}")
    return VerifiedUrl(signer_email=email, signed_at=signed_at, expires_at=expires_at,
                       signed_headers=tuple(signed), canonical_request=request)
