"""Python's cyclic garbage collector held off while the editing core builds its objects.

The core allocates hundreds of thousands of small objects per thousand segments (candidate
windows, keyword sets, clips, pydantic models) and frees almost none of them until it is done;
none of them form reference cycles. CPython starts a collection every few hundred
allocations regardless, and each full collection walks every tracked object alive, so the
longer the script the more each pass costs and the more passes there are: at 10,000 segments
the collector was about a third of the time and made the growth super-linear (and its size
varied from run to run with where the thresholds fell). While a core function runs the
collector is off; reference counting still frees everything that is not in a cycle, and any
cycle made meanwhile is collected by the first collection after it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block (or, as `@collector_paused()`, for each
    call); nested uses and a collector already disabled by the caller are left as found."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
