"""The one rule for ids that come from outside (headers, URL paths, query parameters, payload
paths) before they are used as a document id.

The ids we issue are hex or `t_`/`i_`-prefixed hex. Anything else cannot name one of our
records, and some strings cannot even be asked for: Firestore refuses ids with `/`, `.`/`..` and
the reserved `__.*__`, answering with an error instead of "not found". The service layer checks
every such id with `is_valid_id` and answers an invalid one exactly as it answers an unknown one.
"""

from __future__ import annotations

import re

MAX_ID_LENGTH = 128
_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID_LENGTH}}}")
_RESERVED = re.compile(r"__.*__")
#: `is_valid_id` as an ECMA-262 pattern, for the OpenAPI document (tests hold the two together).
ID_PATTERN = rf"^(?!__[\s\S]*__$)[A-Za-z0-9_-]{{1,{MAX_ID_LENGTH}}}$"


def is_valid_id(value: object) -> bool:
    """Whether `value` could be an id of ours: 1–128 of `[A-Za-z0-9_-]`, not `__…__`."""
    return (
        isinstance(value, str)
        and _ID.fullmatch(value) is not None
        and _RESERVED.fullmatch(value) is None
    )
