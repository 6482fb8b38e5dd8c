"""Integrity of a download: the hashes Cloud Storage sends with every object (`x-goog-hash:
crc32c=<b64>,md5=<b64>`; md5 is absent for composite objects), computed while streaming, and
Content-Length where no hash came (some proxies drop the header)."""

from __future__ import annotations

import base64
import hashlib

import google_crc32c

from vss.edge.errors import EdgeError

#: how a file was checked, strongest first
BY_HASH = "x-goog-hash"
BY_RECORD = "recorded sha256"  # the sha256 the task's result records for the file
BY_LENGTH = "content-length"
UNCHECKED = "unchecked"



class ChecksumMismatch(EdgeError):
    def __init__(self, what: str, expected: str, got: str) -> None:
        super().__init__(f"{what} mismatch: storage says {expected}, received {got}")


def parse_goog_hash(header: str | None) -> dict[str, str]:
    """`crc32c=AAAAAA==,md5=...` -> {"crc32c": "AAAAAA==", "md5": "..."}; unknown kinds kept.

    The header may also come repeated, which requests joins with ", "."""
    hashes: dict[str, str] = {}
    for part in (header or "").split(","):
        kind, sep, value = part.strip().partition("=")
        if sep and value:
            hashes[kind.lower()] = value  # base64 values end in '=': partition keeps them whole
    return hashes


class StreamHashes:
    """md5, crc32c and sha256 of a stream, fed chunk by chunk."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._crc = google_crc32c.Checksum()  # type: ignore[no-untyped-call]
        self._sha256 = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        self._crc.update(chunk)  # type: ignore[no-untyped-call]
        self._sha256.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def goog(self) -> dict[str, str]:
        """Our hashes in the header's encoding (base64 of the big-endian digest)."""
        return {"md5": base64.b64encode(self._md5.digest()).decode(),
                "crc32c": base64.b64encode(
                    self._crc.digest()).decode()}  # type: ignore[no-untyped-call]


def verify(hashes: StreamHashes, goog_hash: str | None, content_length: str | None) -> str:
    """How the received bytes were checked (BY_HASH, BY_LENGTH or UNCHECKED); raises
    ChecksumMismatch when a hash or the length disagrees."""
    expected = {k: v for k, v in parse_goog_hash(goog_hash).items() if k in ("md5", "crc32c")}
    ours = hashes.goog()
    for kind, value in sorted(expected.items()):
        if ours[kind] != value:
            raise ChecksumMismatch(kind, value, ours[kind])
    if expected:
        return BY_HASH
    if content_length is not None and content_length.isdigit():
        if int(content_length) != hashes.size:
            raise ChecksumMismatch("length", f"{content_length} bytes", f"{hashes.size} bytes")
        return BY_LENGTH
    return UNCHECKED


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
