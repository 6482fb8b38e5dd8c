"""What a client's JSON must be for Firestore to store it inside a document.

A payload is stored on its task as a map; Firestore (and its client library) refuse an empty
field name, a field name over 1,500 bytes, maps and arrays nested deeper than 20 levels and a
document over 1 MiB. Checked before anything is stored, so such a payload is a 400 with a JSON
pointer, never a 500 from the database.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 20  # Firestore: maps and arrays nested at most this deep
MAX_FIELD_NAME_BYTES = 1500
# A task document holds its payload, results, errors and usage within Firestore's 1 MiB.
MAX_PAYLOAD_BYTES = 256 * 1024


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def storable_errors(value: Any, pointer: str = "") -> list[dict[str, str]]:
    """JSON-pointer errors for what Firestore cannot store in `value` ([] when it can)."""
    errors: list[dict[str, str]] = []
    size = len(json.dumps(value, ensure_ascii=False).encode())
    if size > MAX_PAYLOAD_BYTES:
        errors.append({"pointer": pointer,
                       "reason": f"{size} bytes of JSON; at most {MAX_PAYLOAD_BYTES} are kept"})

    def walk(item: Any, at: str, depth: int) -> None:
        if not isinstance(item, dict | list):
            return
        if depth > MAX_DEPTH:
            errors.append({"pointer": at,
                           "reason": f"nested deeper than {MAX_DEPTH} levels"})
            return
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            here = f"{at}/{_escape(str(key))}"
            if isinstance(item, dict) and not key:
                errors.append({"pointer": here, "reason": "an empty key cannot be stored"})
            elif isinstance(item, dict) and len(str(key).encode()) > MAX_FIELD_NAME_BYTES:
                errors.append({"pointer": here, "reason": f"a key longer than "
                                                          f"{MAX_FIELD_NAME_BYTES} bytes"})
            walk(child, here, depth + 1)

    walk(value, pointer, 1)
    return errors
