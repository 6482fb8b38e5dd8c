"""The blob store's V4 signed URLs, verified offline against the signer's public key.

fake-gcs-server accepts any signed URL, so this is where a signature or a lifetime gone wrong
shows locally: `GcsBlobStore` signs with a throwaway service-account key (signing is local, no
request leaves the process) and `tests.support.v4_signature` rebuilds the canonical request
Cloud Storage would and checks the signature and the validity window.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from tests.support.v4_signature import (
    MalformedSignedUrl,
    MissingSignedHeader,
    SignatureMismatch,
    SignedUrlExpired,
    SignedUrlNotYetValid,
    SignedUrlRejected,
    VerifiedUrl,
    verify_signed_url,
)
from vss.adapters.gcs import GcsBlobStore

PROJECT = "vss-signing-test"
BUCKET = "vss-artifacts"
NAME = "tenants/t1/tasks/x/a b.json"
UPLOADS = "vss-uploads"
UPLOAD_NAME = "tenants/t1/uploads/y/z.json"
TTL = 600


@dataclass(frozen=True)
class Signer:
    key_file: Path
    public_key: RSAPublicKey
    email: str


def _throwaway_signer(directory: Path, account: str) -> Signer:
    """A service-account key file of the shape `emulators/localenv.py` writes for the stack."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    email = f"{account}@{PROJECT}.iam.gserviceaccount.com"
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": secrets.token_hex(20),
        "private_key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode(),
        "client_email": email,
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = directory / f"{account}.json"
    path.write_text(json.dumps(info))
    return Signer(path, key.public_key(), email)


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return _throwaway_signer(tmp_path_factory.mktemp("signer"), "vss-signer")


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return _throwaway_signer(tmp_path_factory.mktemp("stranger"), "someone-else")


def _store(signer: Signer, public_url: str | None = None) -> GcsBlobStore:
    # The emulator host only makes the client anonymous: signing never calls it (unit tests
    # refuse connections), and the URLs name `public_url`.
    return GcsBlobStore.connect(PROJECT, "http://gcs.invalid:4443", public_url, signer.key_file)


@pytest.fixture(scope="module", params=[None, "http://localhost:4443"],
                ids=["cloud-storage", "local-with-port"])
def store(request: pytest.FixtureRequest, signer: Signer) -> GcsBlobStore:
    return _store(signer, request.param)


@pytest.fixture
def download(store: GcsBlobStore) -> str:
    return store.signed_download_url(BUCKET, NAME, TTL)


@pytest.fixture
def upload(store: GcsBlobStore) -> tuple[str, dict[str, str]]:
    return store.signed_upload_url(UPLOADS, UPLOAD_NAME, content_type="application/json",
                                   size=1000, ttl_seconds=900)


def _now() -> datetime:
    return datetime.now(UTC)


def _verify(url: str, method: str, headers: dict[str, str], signer: Signer,
            now: datetime | None = None) -> VerifiedUrl:
    return verify_signed_url(url, method=method, headers=headers, public_key=signer.public_key,
                             now=now or _now())


def _param(url: str, name: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))[name]


def _signed_at(url: str) -> datetime:
    return datetime.strptime(_param(url, "X-Goog-Date"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _edit_query(url: str, **changes: str | None) -> str:
    """The URL with parameters replaced, added, or (None) removed, order kept."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            params.pop(name)
        else:
            params[name] = value
    return urlunsplit(parts._replace(query=urlencode(params)))


def _flip_last_digit(hex_text: str) -> str:
    return hex_text[:-1] + ("1" if hex_text[-1] == "0" else "0")


# --- what verifies ----------------------------------------------------------------------------

def test_a_download_url_verifies_with_the_signer_public_key(download: str, signer: Signer):
    verified = _verify(download, "GET", {}, signer)
    assert verified.signer_email == signer.email
    assert verified.signed_headers == ("host",)
    assert urlsplit(download).path == f"/{BUCKET}/tenants/t1/tasks/x/a%20b.json"


def test_an_upload_url_verifies_with_the_headers_it_hands_the_client(
    upload: tuple[str, dict[str, str]], signer: Signer,
):
    url, headers = upload
    verified = _verify(url, "PUT", headers, signer)
    assert verified.signer_email == signer.email
    # Every condition the client is told to send is covered by the signature.
    assert set(verified.signed_headers) == {"host", *(name.lower() for name in headers)}
    assert headers == {"Content-Type": "application/json",
                       "x-goog-content-length-range": "1000,1000",
                       "x-goog-if-generation-match": "0"}


def test_header_case_spacing_and_unsigned_extras_do_not_matter(
    upload: tuple[str, dict[str, str]], signer: Signer,
):
    # What an HTTP client may do to the headers without changing the request Cloud Storage sees.
    url, headers = upload
    sent = {name.upper(): f"  {value} " for name, value in headers.items()}
    _verify(url, "PUT", {**sent, "User-Agent": "curl/8", "Content-Length": "1000"}, signer)


@pytest.mark.parametrize("ttl", [1, TTL, 900])
def test_the_url_lives_exactly_the_ttl_asked_for(store: GcsBlobStore, signer: Signer, ttl: int):
    before = _now().replace(microsecond=0)
    url = store.signed_download_url(BUCKET, NAME, ttl)
    after = _now()
    verified = _verify(url, "GET", {}, signer, now=_signed_at(url))
    assert _param(url, "X-Goog-Expires") == str(ttl)
    assert verified.lifetime == timedelta(seconds=ttl)
    assert before <= verified.signed_at <= after


# --- what does not ----------------------------------------------------------------------------

DOWNLOAD_EDITS: dict[str, Callable[[str], str]] = {
    "another object": lambda url: url.replace("a%20b.json", "other.json"),
    "another bucket": lambda url: url.replace(f"/{BUCKET}/", "/vss-uploads/"),
    "a longer lifetime": lambda url: _edit_query(url, X_Goog_Expires="604800"),
    "a later date": lambda url: _edit_query(
        url, X_Goog_Date=(_signed_at(url) + timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")),
    "an added parameter": lambda url: _edit_query(url, generation="1"),
    "another signer named": lambda url: _edit_query(url, X_Goog_Credential=_param(
        url, "X-Goog-Credential").replace("vss-signer@", "someone-else@")),
    "another signature": lambda url: _edit_query(url, X_Goog_Signature=_flip_last_digit(
        _param(url, "X-Goog-Signature"))),
}


@pytest.mark.parametrize("edit", DOWNLOAD_EDITS.values(), ids=DOWNLOAD_EDITS.keys())
def test_a_tampered_download_url_fails(download: str, signer: Signer,
                                        edit: Callable[[str], str]):
    tampered = edit(download)
    assert tampered != download
    with pytest.raises(SignatureMismatch):
        _verify(tampered, "GET", {}, signer)


def test_a_tampered_upload_query_fails(upload: tuple[str, dict[str, str]], signer: Signer):
    url, headers = upload
    # Dropping the length range from the signed headers would free the client to send any size.
    fewer = "content-type;host;x-goog-if-generation-match"
    tampered = _edit_query(url, X_Goog_SignedHeaders=fewer)
    with pytest.raises(SignatureMismatch):
        _verify(tampered, "PUT", headers, signer)


@pytest.mark.parametrize("method", ["PUT", "POST", "HEAD", "DELETE"])
def test_a_download_url_used_with_another_method_fails(download: str, signer: Signer,
                                                       method: str):
    with pytest.raises(SignatureMismatch):
        _verify(download, method, {}, signer)


def test_an_upload_url_used_to_read_fails(upload: tuple[str, dict[str, str]], signer: Signer):
    url, headers = upload
    with pytest.raises(SignatureMismatch):
        _verify(url, "GET", headers, signer)


HEADER_EDITS: dict[str, tuple[dict[str, str | None], type[SignedUrlRejected]]] = {
    "another content type": ({"Content-Type": "text/html"}, SignatureMismatch),
    "no content type": ({"Content-Type": None}, MissingSignedHeader),
    "a wider length range": ({"x-goog-content-length-range": "0,20971520"}, SignatureMismatch),
    "no length range": ({"x-goog-content-length-range": None}, MissingSignedHeader),
    "overwrite allowed": ({"x-goog-if-generation-match": "1796530797449919"},
                          SignatureMismatch),
    "no create-only condition": ({"x-goog-if-generation-match": None}, MissingSignedHeader),
    "another host": ({"Host": "evil.example"}, SignatureMismatch),
}


@pytest.mark.parametrize(("edit", "error"), HEADER_EDITS.values(), ids=HEADER_EDITS.keys())
def test_an_upload_with_a_changed_or_missing_signed_header_fails(
    upload: tuple[str, dict[str, str]], signer: Signer,
    edit: dict[str, str | None], error: type[SignedUrlRejected],
):
    url, headers = upload
    sent = dict(headers)
    for name, value in edit.items():
        if value is None:
            del sent[name]
        else:
            sent[name] = value
    with pytest.raises(error) as caught:
        _verify(url, "PUT", sent, signer)
    if error is MissingSignedHeader:
        assert next(iter(edit)).lower() in str(caught.value)


def test_another_key_does_not_verify_the_url_nor_sign_one_that_verifies(
    download: str, signer: Signer, stranger: Signer,
):
    with pytest.raises(SignatureMismatch):
        _verify(download, "GET", {}, stranger)
    forged = _store(stranger).signed_download_url(BUCKET, NAME, TTL)
    with pytest.raises(SignatureMismatch):
        _verify(forged, "GET", {}, signer)


def test_an_expired_url_fails(download: str, signer: Signer):
    end = _signed_at(download) + timedelta(seconds=TTL)
    _verify(download, "GET", {}, signer, now=end - timedelta(seconds=1))
    for now in (end, end + timedelta(seconds=1), end + timedelta(days=1)):
        with pytest.raises(SignedUrlExpired, match="expired at"):
            _verify(download, "GET", {}, signer, now=now)


def test_a_url_is_usable_from_fifteen_minutes_before_its_date(download: str, signer: Signer):
    # Cloud Storage's allowance for clocks running behind the signer's.
    start = _signed_at(download) - timedelta(minutes=15)
    _verify(download, "GET", {}, signer, now=start)
    with pytest.raises(SignedUrlNotYetValid):
        _verify(download, "GET", {}, signer, now=start - timedelta(seconds=1))


@pytest.mark.parametrize("change", [
    {"X_Goog_Signature": None}, {"X_Goog_Algorithm": "GOOG4-HMAC-SHA256"},
    {"X_Goog_Expires": "604801"}, {"X_Goog_Expires": "-5"}, {"X_Goog_Date": "2026-01-01"},
    {"X_Goog_Credential": "vss-signer@p.iam/20000101/auto/storage/goog4_request"},
    {"X_Goog_SignedHeaders": "x-goog-meta;host"}, {"X_Goog_Signature": "not hex"},
], ids=["unsigned", "hmac", "beyond-seven-days", "negative-lifetime", "iso-date",
        "scope-of-another-day", "unsorted-headers", "signature-not-hex"])
def test_a_url_not_in_the_v4_form_is_malformed(download: str, signer: Signer,
                                               change: dict[str, str | None]):
    with pytest.raises(MalformedSignedUrl):
        _verify(_edit_query(download, **change), "GET", {}, signer)
