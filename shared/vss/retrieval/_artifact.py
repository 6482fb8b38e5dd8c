"""The bytes of a story index: a ZIP (readable as a numpy ``.npz``) of ``header.json`` and
the score matrix's arrays as ``.npy`` files.

Writing is deterministic (fixed member order and timestamps, fixed compression level), so
the same index gives the same bytes. Reading executes nothing: the header is JSON validated
by its pydantic model, arrays are read with ``allow_pickle=False`` and must have the dtype
and shape the header implies; anything else is `StoryIndexInvalid`.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from vss.domain.pointers import pointer_errors
from vss.domain.story_index import STORY_INDEX_FORMAT, STORY_INDEX_VERSION, StoryIndexHeader
from vss.errors import StoryIndexInvalid

HEADER: Final = "header.json"
# name: dtype. `data` is one BM25 score per (document, term) pair, column by column; `indices`
# its document (row); column t is data[indptr[t]:indptr[t + 1]].
ARRAYS: Final[dict[str, np.dtype[Any]]] = {
    "data": np.dtype("<f4"), "indices": np.dtype("<i4"), "indptr": np.dtype("<i8")}
_EPOCH: Final = (1980, 1, 1, 0, 0, 0)  # the earliest time a ZIP entry can carry
_LEVEL: Final = 6
# A member may expand to at most this many bytes: a story index is a few MiB.
_MAX_MEMBER_BYTES: Final = 1 << 30


class ScoreMatrix(NamedTuple):
    """BM25 scores in compressed sparse columns: rows are documents, columns are terms."""

    data: npt.NDArray[np.float32]
    indices: npt.NDArray[np.int32]
    indptr: npt.NDArray[np.int64]


def write(header: StoryIndexHeader, matrix: ScoreMatrix) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        text = json.dumps(header.model_dump(mode="json"), ensure_ascii=False,
                          separators=(",", ":"), sort_keys=True)
        archive.writestr(_member(HEADER), text.encode(), compresslevel=_LEVEL)
        for name, dtype in ARRAYS.items():
            array = np.ascontiguousarray(getattr(matrix, name), dtype=dtype)
            stream = io.BytesIO()
            np.lib.format.write_array(stream, array, version=(1, 0), allow_pickle=False)
            archive.writestr(_member(f"{name}.npy"), stream.getvalue(), compresslevel=_LEVEL)
    return buffer.getvalue()


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def read(data: bytes) -> tuple[StoryIndexHeader, ScoreMatrix]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise _invalid(f"not a story index: {exc}") from None
    with archive:
        header = _header(_member_bytes(archive, HEADER))
        arrays = {name: _array(archive, name, dtype) for name, dtype in ARRAYS.items()}
    matrix = ScoreMatrix(arrays["data"].astype(np.float32, copy=False),
                         arrays["indices"].astype(np.int32, copy=False),
                         arrays["indptr"].astype(np.int64, copy=False))
    _check_shapes(header, matrix)
    return header, matrix


def _member_bytes(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _invalid(f"the story index has no {name}") from None
    if info.file_size > _MAX_MEMBER_BYTES:
        raise _invalid(f"{name} is {info.file_size} bytes, more than a story index holds")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:  # corrupt member, wrong CRC
        raise _invalid(f"{name} cannot be read: {exc}") from None


def _header(raw: bytes) -> StoryIndexHeader:
    try:
        document = json.loads(raw.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _invalid(f"{HEADER} is not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != STORY_INDEX_FORMAT:
        raise _invalid(f"{HEADER} does not describe a {STORY_INDEX_FORMAT}")
    if document.get("version") != STORY_INDEX_VERSION:
        raise _invalid(f"story index version {document.get('version')!r} is not supported "
                       f"(this code reads version {STORY_INDEX_VERSION}): rebuild the index")
    try:
        return StoryIndexHeader.model_validate(document)
    except ValidationError as exc:
        raise StoryIndexInvalid(f"invalid {HEADER}",
                                details={"errors": pointer_errors(exc)}) from None


def _array(archive: zipfile.ZipFile, name: str, dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    stream = io.BytesIO(_member_bytes(archive, f"{name}.npy"))
    try:
        array = np.lib.format.read_array(stream, allow_pickle=False)
    except ValueError as exc:  # not an .npy, or an object array (which would need pickle)
        raise _invalid(f"{name}.npy: {exc}") from None
    if array.dtype != dtype or array.ndim != 1:
        raise _invalid(f"{name}.npy holds {array.dtype} of {array.ndim} dimensions, "
                       f"not a vector of {dtype}")
    return array


def _check_shapes(header: StoryIndexHeader, matrix: ScoreMatrix) -> None:
    documents, terms = len(header.scene_ids), len(header.vocabulary)
    indptr = matrix.indptr
    problems = []
    if len(header.episodes) != documents:
        problems.append("one episode per scene")
    if len(indptr) != terms + 1 or indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        problems.append("a column pointer per term, from 0 and never decreasing")
    elif indptr[-1] != len(matrix.data) or len(matrix.data) != len(matrix.indices):
        problems.append("a score and a row for each pointed entry")
    elif len(matrix.indices) and (matrix.indices.min() < 0
                                  or matrix.indices.max() >= documents):
        problems.append("rows within the documents")
    if problems:
        raise _invalid(f"inconsistent story index: expected {'; '.join(problems)}")


def _invalid(message: str) -> StoryIndexInvalid:
    return StoryIndexInvalid(message)
