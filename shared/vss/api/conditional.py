"""Conditional GETs for answers that are polled: a strong `ETag` over the exact body, and
`304 Not Modified` without a body when the request's `If-None-Match` names it, so a client
polling a resource that has not changed transfers nothing but headers.

A route calls `revalidated` only once the caller is authenticated and the resource found as
theirs: a 304 then never tells anyone that someone else's resource exists.
"""

from __future__ import annotations

import hashlib

from flask import Response, request

# Clients may keep the answer but must ask again before using it; no shared cache keeps it
# (it is one tenant's).
CACHE_CONTROL = "private, no-cache"
# 128 bits of sha256: enough to tell a resource's successive bodies apart, short on the wire.
ETAG_HEX_DIGITS = 32


def etag_of(body: bytes) -> str:
    """The opaque tag (unquoted) of a body."""
    return hashlib.sha256(body).hexdigest()[:ETAG_HEX_DIGITS]


def revalidated(response: Response) -> Response:
    """`response` with its strong ETag and `Cache-Control`, turned into a 304 when the request's
    `If-None-Match` names that ETag.

    werkzeug parses the header (a list, `*`, `W/` prefixes) and `contains_weak` is RFC 9110's
    weak comparison, which If-None-Match calls for; a value it cannot read as entity tags
    matches nothing. `Response.make_conditional` is not used: it would also answer `If-Match`
    with 412 (refusing even `If-Match: *` on a task that exists), which this API does not
    document. On a 304 werkzeug sends no body and drops Content-Type and Content-Length, and
    keeps ETag and Cache-Control, as RFC 9110 §15.4.5 asks.
    """
    tag = etag_of(response.get_data())
    response.set_etag(tag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    if request.if_none_match.contains_weak(tag):
        response.status_code = 304
    return response
