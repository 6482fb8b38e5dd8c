"""The local stack's TTS worker pointed at a loopback fake Cloud Text-to-Speech server, so the
real client library runs inside the real worker (fault injection, fixed latency)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from tests.support.fake_tts import FakeTts
from tests.support.stack import function_pid, restart_stack, wait_until


def _restart_tts_worker(**env: str) -> None:
    """Restart tts_worker with `env`, and the push relay too when the concurrency changes
    (its push window is the worker's concurrency)."""
    names = ["tts_worker", "push_relay"]
    pids = [function_pid(name) for name in names]
    for pid in pids:
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    for pid in pids:
        wait_until(lambda pid=pid: not _alive(pid), timeout=10, interval=0.05)
    restart_stack(**env)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def tts_worker_speaking_through(fake: FakeTts, **settings: str) -> Iterator[None]:
    """Restart the stack's tts_worker with Cloud TTS at `fake` (and `settings`, VSS_* names),
    then back as it was."""
    _restart_tts_worker(VSS_TTS_ENDPOINT=fake.url, VSS_TTS_PROVIDER="google", **settings)
    try:
        yield
    finally:
        _restart_tts_worker()
