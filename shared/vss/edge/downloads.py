"""Parallel, verified downloads of a task's artifacts into one folder.

Each file is fetched through a fresh signed URL, streamed to `<name>.part` while its md5,
crc32c and sha256 are computed, checked against the `x-goog-hash` storage sent (or its
Content-Length when no hash came) and against the sha256 the task's result recorded for it,
and only then renamed into place: a run killed mid-file leaves a `.part`, never a truncated
artifact under the real name.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import requests

from vss.edge.checksums import BY_RECORD, StreamHashes, verify
from vss.edge.client import EdgeClient
from vss.edge.errors import EdgeError
from vss.edge.state import FileState

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Wanted:
    relative_path: str
    name: str  # the file name in the output folder
    sha256: str | None = None  # what the task's result recorded for it, when it did


def local_names(paths: Iterable[str], digests: Mapping[str, str] | None = None
                ) -> list[Wanted]:
    """Each artifact under its basename (the renderer and the workbench look WAVs up by
    basename); should two basenames collide, the later ones keep their parent folder too.
    `digests` are the sha256 the task recorded, by relative path."""
    seen: set[str] = set()
    wanted = []
    for path in dict.fromkeys(paths):
        pure = PurePosixPath(path)
        name = pure.name
        if name in seen:
            name = f"{pure.parent.name}_{pure.name}"
        seen.add(name)
        wanted.append(Wanted(path, name, (digests or {}).get(path)))
    return wanted


class RateLimit:
    """A token bucket shared by every download thread: at most `bytes_per_second` in all."""

    def __init__(self, bytes_per_second: float | None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.rate = bytes_per_second
        self._clock = clock
        self._sleep = sleep or (lambda seconds: time.sleep(seconds))
        self._lock = threading.Lock()
        self._next_free = clock()

    def take(self, size: int) -> None:
        if not self.rate:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next_free)
            self._next_free = start + size / self.rate
            wait = start - now
        if wait > 0:
            self._sleep(wait)


class DownloadError(EdgeError):
    def __init__(self, wanted: Wanted, reason: str) -> None:
        super().__init__(f"{wanted.relative_path}: {reason}")
        self.wanted = wanted


def fetch(client: EdgeClient, wanted: Wanted, folder: Path, limit: RateLimit,
          progress: Callable[[int], None] = lambda _: None,
          storage: requests.Session | None = None) -> FileState:
    """Download one artifact, verified; its record for the state file."""
    from vss.edge.checksums import ChecksumMismatch
    from vss.edge.client import ApiError

    target = folder / wanted.name
    part = target.with_name(target.name + ".part")
    try:
        url = client.signed_url(wanted.relative_path)
        with (storage or client.storage).get(url, stream=True, timeout=client.timeout) as answer:
            if answer.status_code != 200:
                raise DownloadError(wanted, f"storage answered HTTP {answer.status_code}")
            hashes = StreamHashes()
            with part.open("wb") as out:
                for chunk in answer.iter_content(CHUNK):
                    limit.take(len(chunk))
                    hashes.update(chunk)
                    out.write(chunk)
                    progress(len(chunk))
            checked = verify(hashes, answer.headers.get("x-goog-hash"),
                             answer.headers.get("content-length"))
            if wanted.sha256 is not None:  # the bytes the task published, not just intact ones
                if hashes.sha256 != wanted.sha256:
                    raise ChecksumMismatch("recorded sha256", wanted.sha256, hashes.sha256)
                checked = BY_RECORD
    except ChecksumMismatch as exc:
        part.unlink(missing_ok=True)
        raise DownloadError(wanted, str(exc)) from None
    except ApiError as exc:
        raise DownloadError(wanted, f"[{exc.code}] {exc.message}") from None
    except (requests.RequestException, OSError) as exc:
        part.unlink(missing_ok=True)
        raise DownloadError(wanted, f"{type(exc).__name__}: {exc}") from None
    os.replace(part, target)
    return FileState(name=wanted.name, size=hashes.size, sha256=hashes.sha256, checked=checked)


def fetch_all(client: EdgeClient, wanted: list[Wanted], folder: Path, *, parallel: int,
              limit: RateLimit, on_bytes: Callable[[int], None],
              on_done: Callable[[Wanted, FileState], None]) -> list[DownloadError]:
    """Download `wanted` with `parallel` threads; `on_done` runs for each file as it lands
    (in the calling thread, so it may write the state file). The errors of the files that
    failed."""
    local = threading.local()
    errors: list[DownloadError] = []

    def storage() -> requests.Session:
        # requests sessions are not thread-safe: one per download thread.
        if not hasattr(local, "session"):
            local.session = requests.Session()
            for prefix, adapter in client.storage.adapters.items():
                local.session.mount(prefix, adapter)
        session: requests.Session = local.session
        return session

    def one(item: Wanted) -> tuple[Wanted, FileState]:
        return item, fetch(client, item, folder, limit, on_bytes, storage())

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="download") as pool:
        futures = [pool.submit(one, item) for item in wanted]
        for future in as_completed(futures):
            try:
                item, record = future.result()
            except DownloadError as exc:
                errors.append(exc)
                continue
            on_done(item, record)
    return errors
