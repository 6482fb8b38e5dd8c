"""Identity-Aware Proxy assertions: the `X-Goog-IAP-JWT-Assertion` header IAP adds to every
request it lets through, an ES256 JWT signed with Google's IAP keys. The console checks it
itself, so a request that reaches the function some other way is refused."""

from __future__ import annotations

from collections.abc import Mapping

from vss.errors import Unauthenticated

HEADER = "X-Goog-IAP-JWT-Assertion"
CERTS_URL = "https://www.gstatic.com/iap/verify/public_key"
ISSUER = "https://cloud.google.com/iap"


def verify_assertion(assertion: str | None, audience: str,
                     certs: Mapping[str, str] | None = None) -> str:
    """The identity (email, else subject) of a valid assertion for `audience`. `certs` (key id
    to PEM public key) replaces Google's published keys: tests sign with a local key."""
    from google.auth import exceptions, jwt

    if not assertion:
        raise Unauthenticated("Requests must come through Identity-Aware Proxy.")
    try:
        if certs is None:
            from google.auth.transport import requests as transport
            from google.oauth2 import id_token

            claims = id_token.verify_token(assertion, transport.Request(), audience=audience,
                                           certs_url=CERTS_URL)
        else:
            claims = jwt.decode(  # type: ignore[no-untyped-call]
                assertion, certs=dict(certs), audience=audience)
    except (ValueError, exceptions.GoogleAuthError):
        raise Unauthenticated("The Identity-Aware Proxy assertion is not valid.") from None
    if claims.get("iss") != ISSUER or not (claims.get("email") or claims.get("sub")):
        raise Unauthenticated("The Identity-Aware Proxy assertion is not valid.")
    return str(claims.get("email") or claims["sub"])
