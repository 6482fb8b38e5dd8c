"""Production access: the IAP assertion, checked with a local ES256 key instead of Google's;
and Google's keys, kept in process and fetched again when they expire or rotate (through a
fake fetch: no socket)."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.auth import crypt, jwt

from tests.support.fakes import fake_deps
from vss.console import create_console, iap
from vss.console.iap import (
    CERTS_URL,
    DEFAULT_LIFETIME_SECONDS,
    HEADER,
    ISSUER,
    MAX_LIFETIME_SECONDS,
    REFETCH_INTERVAL_SECONDS,
    FetchedKeys,
    IapKeys,
    fetch_google_keys,
    max_age,
    verify_assertion,
)
from vss.console.tokens import issue_token
from vss.errors import RetryableError, Unauthenticated

AUDIENCE = "/projects/123/global/backendServices/456"


def _key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, public.decode()


def _assertion(key: ec.EllipticCurvePrivateKey, **claims: object) -> str:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    signer = crypt.ES256Signer.from_string(pem, key_id="k1")
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600,
            "sub": "accounts.google.com:1", "email": "ops@example.com", **claims}
    return jwt.encode(signer, body).decode()


@pytest.fixture
def setup() -> tuple[object, ec.EllipticCurvePrivateKey]:
    key, public = _key()
    deps = fake_deps(console_secret="s", console_iap_audience=AUDIENCE)
    return create_console(deps, iap_certs={"k1": public}).test_client(), key


def test_a_valid_assertion_is_the_actor(setup: tuple) -> None:
    client, key = setup
    answer = client.get("/console/tenants", headers={HEADER: _assertion(key)})
    assert answer.status_code == 200 and "ops@example.com" in answer.text


@pytest.mark.parametrize("claims", [
    {"aud": "/projects/123/global/backendServices/999"},
    {"iss": "https://accounts.google.com"},
    {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
])
def test_a_wrong_assertion_is_refused(setup: tuple, claims: dict) -> None:
    client, key = setup
    assert client.get("/console/tenants",
                      headers={HEADER: _assertion(key, **claims)}).status_code == 401


def test_another_key_a_missing_header_or_a_console_token_is_refused(setup: tuple) -> None:
    client, _ = setup
    other, _ = _key()
    assert client.get("/console/tenants", headers={HEADER: _assertion(other)}).status_code == 401
    assert client.get("/console/tenants").status_code == 401
    token = issue_token("s", __import__("datetime").datetime.now(), 10)
    assert client.post("/console/login", data={"token": token}).status_code in (400, 401)
    assert client.get("/console/tenants").status_code == 401


def test_actions_under_iap_are_audited_with_the_identity(setup: tuple) -> None:
    client, key = setup
    headers = {HEADER: _assertion(key)}
    page = client.get("/console/tenants", headers=headers).text
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post("/console/tenants", headers=headers,
                         data={"name": "Acme", "csrf_token": csrf})
    assert answer.status_code == 200
    deps = client.application.extensions["vss"]
    assert [(e.actor, e.action) for e in deps.audit.entries] == [("ops@example.com",
                                                                  "tenant.create")]


# --- Google's keys, kept in process ---------------------------------------------------------


class FakeGoogle:
    """Google's key endpoint: answers with the keys it currently publishes, counting fetches."""

    def __init__(self, keys: dict[str, str], max_age: float | None = None) -> None:
        self.keys, self.max_age, self.fetches = dict(keys), max_age, 0
        self.down = False

    def __call__(self) -> FetchedKeys:
        self.fetches += 1
        if self.down:
            raise RetryableError("Google's Identity-Aware Proxy keys could not be fetched.")
        return FetchedKeys(dict(self.keys), self.max_age)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _signed(key: ec.EllipticCurvePrivateKey, key_id: str) -> str:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600,
            "sub": "accounts.google.com:1", "email": "ops@example.com"}
    return jwt.encode(crypt.ES256Signer.from_string(pem, key_id=key_id), body).decode()


@pytest.fixture
def google() -> tuple[FakeGoogle, FakeClock, IapKeys, ec.EllipticCurvePrivateKey]:
    key, public = _key()
    fake, clock = FakeGoogle({"k1": public}, max_age=600), FakeClock()
    return fake, clock, IapKeys(fetch=fake, clock=clock), key


def test_the_keys_are_fetched_once_and_kept_for_their_max_age(google: tuple) -> None:
    fake, clock, keys, key = google
    assertion = _signed(key, "k1")
    for _ in range(3):
        assert verify_assertion(assertion, AUDIENCE, keys=keys) == "ops@example.com"
    assert fake.fetches == 1
    clock.now += 599
    verify_assertion(assertion, AUDIENCE, keys=keys)
    assert fake.fetches == 1
    clock.now += 2  # past the answer's max-age
    verify_assertion(assertion, AUDIENCE, keys=keys)
    assert fake.fetches == 2


def test_without_a_max_age_the_keys_are_kept_an_hour(google: tuple) -> None:
    fake, clock, keys, key = google
    fake.max_age = None
    verify_assertion(_signed(key, "k1"), AUDIENCE, keys=keys)
    clock.now += DEFAULT_LIFETIME_SECONDS - 1
    verify_assertion(_signed(key, "k1"), AUDIENCE, keys=keys)
    assert fake.fetches == 1
    clock.now += 2
    verify_assertion(_signed(key, "k1"), AUDIENCE, keys=keys)
    assert fake.fetches == 2


def test_a_long_max_age_is_bounded(google: tuple) -> None:
    fake, clock, keys, key = google
    fake.max_age = 10 * MAX_LIFETIME_SECONDS
    verify_assertion(_signed(key, "k1"), AUDIENCE, keys=keys)
    clock.now += MAX_LIFETIME_SECONDS + 1
    verify_assertion(_signed(key, "k1"), AUDIENCE, keys=keys)
    assert fake.fetches == 2


def test_an_unknown_key_id_fetches_the_keys_again_at_once(google: tuple) -> None:
    """Google rotated its keys: an assertion signed with the new one passes on first sight."""
    fake, clock, keys, key = google
    verify_assertion(_signed(key, "k1"), AUDIENCE, keys=keys)
    rotated, public = _key()
    fake.keys["k2"] = public
    clock.now += REFETCH_INTERVAL_SECONDS
    assert verify_assertion(_signed(rotated, "k2"), AUDIENCE, keys=keys) == "ops@example.com"
    assert fake.fetches == 2
    verify_assertion(_signed(rotated, "k2"), AUDIENCE, keys=keys)
    assert fake.fetches == 2


def test_made_up_key_ids_cannot_make_every_request_a_fetch(google: tuple) -> None:
    fake, clock, keys, key = google
    verify_assertion(_signed(key, "k1"), AUDIENCE, keys=keys)
    stranger, _ = _key()
    for attempt in range(5):
        with pytest.raises(Unauthenticated):
            verify_assertion(_signed(stranger, f"forged-{attempt}"), AUDIENCE, keys=keys)
    assert fake.fetches == 1  # within the refetch interval of the first fetch
    clock.now += REFETCH_INTERVAL_SECONDS
    with pytest.raises(Unauthenticated):
        verify_assertion(_signed(stranger, "forged-again"), AUDIENCE, keys=keys)
    assert fake.fetches == 2
    assert verify_assertion(_signed(key, "k1"), AUDIENCE, keys=keys) == "ops@example.com"


def test_keys_that_cannot_be_fetched_answer_try_again(google: tuple) -> None:
    fake, _, keys, key = google
    fake.down = True
    with pytest.raises(RetryableError):
        verify_assertion(_signed(key, "k1"), AUDIENCE, keys=keys)
    fake.down = False
    assert verify_assertion(_signed(key, "k1"), AUDIENCE, keys=keys) == "ops@example.com"


def test_a_malformed_assertion_is_refused_before_any_fetch(google: tuple) -> None:
    fake, _, keys, _ = google
    for junk in ("not-a-jwt", "a.b.c", "!!.e30.sig"):
        with pytest.raises(Unauthenticated):
            verify_assertion(junk, AUDIENCE, keys=keys)
    assert fake.fetches == 0


def test_the_console_checks_with_the_instance_keys_by_default(
    google: tuple, monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, _, keys, key = google
    monkeypatch.setattr(iap, "GOOGLE_KEYS", keys)
    client = create_console(fake_deps(console_secret="s",
                                      console_iap_audience=AUDIENCE)).test_client()
    for _ in range(2):
        answer = client.get("/console/tenants", headers={HEADER: _signed(key, "k1")})
        assert answer.status_code == 200
    assert fake.fetches == 1
    fake.down, keys_gone = True, IapKeys(fetch=fake)
    monkeypatch.setattr(iap, "GOOGLE_KEYS", keys_gone)
    assert client.get("/console/tenants",
                      headers={HEADER: _signed(key, "k1")}).status_code == 503


@pytest.mark.parametrize(("header", "seconds"), [
    ("public, max-age=21600, must-revalidate", 21600.0),
    ("max-age=60", 60.0),
    ("no-cache", None),
    ("", None),
    ("public, s-maxage=5", None),
])
def test_max_age_is_read_from_cache_control(header: str, seconds: float | None) -> None:
    assert max_age(header) == seconds


class _Answer:
    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        self.body, self.headers = body, headers

    def read(self) -> bytes:
        return self.body

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_fetching_reads_the_key_set_and_its_max_age(monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.request

    asked: list[str] = []

    def urlopen(url: str, timeout: float) -> _Answer:
        asked.append(url)
        return _Answer(json.dumps({"k1": "PEM"}).encode(),
                       {"Cache-Control": "public, max-age=3000"})

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    assert fetch_google_keys() == FetchedKeys({"k1": "PEM"}, 3000.0)
    assert asked == [CERTS_URL]


@pytest.mark.parametrize("failure", [OSError("unreachable"), b"<html>", b"[1, 2]"])
def test_a_failed_fetch_is_retryable(monkeypatch: pytest.MonkeyPatch,
                                     failure: Exception | bytes) -> None:
    import urllib.request

    def urlopen(url: str, timeout: float) -> _Answer:
        if isinstance(failure, Exception):
            raise failure
        return _Answer(failure, {})

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    with pytest.raises(RetryableError):
        fetch_google_keys()
