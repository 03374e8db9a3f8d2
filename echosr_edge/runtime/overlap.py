"""Overlapped stages: the pipeline's front (pre-process, SR) of frame n+1 runs while frame n is classified.

A worker thread pulls frames from the source and runs ``Pipeline.front``; the caller runs
``Pipeline.back`` (the classifiers). A queue of one enhanced frame sits between them, so the
worker takes a new frame from the source only when the previous one has been handed over: the
newest-frame policy of live sources is unchanged, and every frame goes through the same calls
as ``Pipeline.process``, so the results are identical.

It pays only when the two stages do not fight for the same cores: each engine already uses
``threads`` cores, so overlapping needs at least twice that many (``overlap_pays``).
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Iterator

from echosr_edge.runtime.pipeline import Enhanced, Pipeline

_DONE = object()


def overlap_pays(pipeline: Pipeline, threads: int | None, cores: int | None, live: bool) -> tuple[bool, str]:
    """Whether ``--overlap auto`` overlaps the stages here, and why."""
    if not live:
        return False, "not a live source: frames are processed in order, one at a time"
    if pipeline.sr is None or pipeline.enhance == "never":
        return False, "no SR stage to overlap with the classifiers"
    cores, threads = cores or 1, threads or cores or 1
    if cores < 2 * threads:
        return False, (f"{cores} cores and {threads} engine threads: overlapped stages would share the cores "
                       f"(--threads {max(1, cores // 2)} --overlap on splits them)")
    return True, f"{cores} cores hold both stages at {threads} engine threads each"


def overlapped(pipeline: Pipeline, items: Iterator) -> Iterator[tuple[tuple, Enhanced, float] | None]:
    """``(item, enhanced, taken_at)`` per source item, the front run a frame ahead in a worker thread.

    ``None`` items (a live source waiting) pass through. ``taken_at`` is the ``time.monotonic()``
    at which the frame left the source, for end-to-end latency. Exceptions of the source or the
    front are raised here; closing this generator stops the worker and closes ``items``.
    """
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(value) -> bool:
        while not stop.is_set():
            try:
                handoff.put(value, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    break
                if item is None:
                    if not put(None):
                        break
                    continue
                taken = time.monotonic()
                if not put((item, pipeline.front(item[2]), taken)):
                    break
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
        finally:
            close = getattr(items, "close", None)
            if close:
                close()

    worker = threading.Thread(target=work, name="echosr-front", daemon=True)
    worker.start()
    try:
        while True:
            value = handoff.get()
            if value is _DONE:
                return
            if isinstance(value, BaseException):
                raise value
            yield value
    finally:
        stop.set()
        worker.join(timeout=10)
