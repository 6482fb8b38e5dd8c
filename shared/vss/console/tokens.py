"""Console tokens: a signed, expiring statement "an administrator may open the console", printed
by `vss admin console-token` and accepted once by the login page, which turns it into a session.
Signed with `VSS_CONSOLE_SECRET` under a salt of their own, so no other signature made with
the secret (session cookies) passes for one."""

from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from vss.errors import Unauthenticated

_SALT = "vss-console-token"
SUBJECT = "console-token"


def issue_token(secret: str, now: datetime, minutes: int) -> str:
    expires = now + timedelta(minutes=minutes)
    return URLSafeSerializer(secret, salt=_SALT).dumps(
        {"sub": SUBJECT, "exp": int(expires.timestamp())})


def check_token(secret: str, token: str, now: datetime) -> datetime:
    """When the token expires; `Unauthenticated` if it is forged, malformed or expired."""
    try:
        claims = URLSafeSerializer(secret, salt=_SALT).loads(token.strip())
    except BadSignature:
        raise Unauthenticated("This is not a console token.") from None
    expires = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(expires, int) or claims.get("sub") != SUBJECT:
        raise Unauthenticated("This is not a console token.")
    if expires <= now.timestamp():
        raise Unauthenticated("This console token has expired; print a new one.")
    return datetime.fromtimestamp(expires, tz=now.tzinfo)
