"""A build's processes: pool workers and renderers die with the process that started them, and every
process building documents collects its garbage less often (:func:`collect_less`)."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: a young garbage collection after this many new objects rather than Python's 700: a two-page brief
#: makes about 90,000 of them to render, and collecting that often took a tenth of a batch's time
YOUNG = 50_000


def collect_less(collect: bool = True) -> None:
    """From now on in this process: what it holds is frozen (no collection scans it again) and a young
    collection waits for `YOUNG` new objects; the older generations follow as before, in proportion.
    A document's garbage is collected all the same, in a few collections rather than a hundred.
    Without `collect`, what is garbage already is frozen with the rest (a collection of a process
    holding the data costs more than it frees)."""
    if collect:
        gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, *gc.get_threshold()[1:])


@contextmanager
def loading() -> Iterator[None]:
    """While the block runs, a young collection waits for `YOUNG` new objects, nothing frozen; then as
    before. For a process loading what it will hold (modules, configuration, data): those objects
    live on, and with Python's settings collections scanned them again and again for little garbage,
    two of them the whole heap (a tenth of a second of a build's start)."""
    before = gc.get_threshold()
    gc.set_threshold(YOUNG, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def collecting_less() -> Iterator[None]:
    """`collect_less` while the block runs (`loading`, and what the process holds frozen), and then as
    before (for a process that goes on)."""
    with loading():
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()


def peak_resident() -> int:
    """This process's peak resident memory in bytes, as Linux counts it for the process's own memory
    (`VmHWM`). Not `getrusage`'s `ru_maxrss`, which a process started by another inherits from it: a
    build started by a process holding 500 MiB reported 500 MiB whatever it used itself. Elsewhere,
    `ru_maxrss` is all there is."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def one_arena() -> None:
    """One malloc arena for the whole process (glibc; elsewhere nothing changes): each thread that hands
    documents to a renderer would otherwise get an arena of its own, which keeps what it freed, and the
    build process would hold several megabytes more. Best called before any thread starts."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None).mallopt(-8, 1)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def die_with_parent() -> None:
    """End this process when its parent ends: a parent-death signal (Linux), and a watchdog thread
    where that signal is not available."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watchdog() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watchdog, daemon=True, name="parent-watchdog").start()
