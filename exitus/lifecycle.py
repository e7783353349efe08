"""Where this process is in its life, for the probes: serving, or shutting down (draining after SIGTERM).

Set by exitus.serve's signal handling; read by the readiness probe, which answers 503 from the first SIGTERM on so
the load balancer stops routing here while in-flight and late requests are still served.

With several workers the supervisor gets the signal, and its signal to each worker arrives a little later. So that
readiness fails in every worker from the moment the supervisor has it, the supervisor creates a flag in shared memory
before it starts the workers (`share_with_workers`), each worker adopts it (`adopt`), and the supervisor sets it in
its signal handler: a worker reads it on every probe, so there is no window in which one still answers "ready".
"""

from __future__ import annotations

import ctypes
import multiprocessing
import threading
from typing import Any

_shutting_down = threading.Event()
_shared: Any = None  # a c_bool in shared memory: the supervisor's and its workers' common flag


def share_with_workers() -> Any:
    """In the supervisor, before it starts workers: the flag to hand to each (picklable while spawning)."""
    global _shared
    if _shared is None:
        _shared = multiprocessing.get_context("spawn").RawValue(ctypes.c_bool, False)
    return _shared


def adopt(shared: Any) -> None:
    """In a worker: follow the supervisor's flag too."""
    global _shared
    _shared = shared


def begin_shutdown() -> None:
    _shutting_down.set()
    if _shared is not None:
        _shared.value = True


def shutting_down() -> bool:
    return _shutting_down.is_set() or (_shared is not None and bool(_shared.value))
