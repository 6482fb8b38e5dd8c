"""Production access: the IAP assertion, checked with a local ES256 key instead of Google's."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.auth import crypt, jwt

from tests.support.fakes import fake_deps
from vss.console import create_console
from vss.console.iap import HEADER, ISSUER
from vss.console.tokens import issue_token

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
