"""Where this process is in its life, for the probes: serving, or shutting down (draining after SIGTERM).

Set by exitus.serve's signal handling; read by the readiness probe, which answers 503 from the first SIGTERM on so
the load balancer stops routing here while in-flight and late requests are still served.
"""

from __future__ import annotations

import threading

_shutting_down = threading.Event()


def begin_shutdown() -> None:
    _shutting_down.set()


def shutting_down() -> bool:
    return _shutting_down.is_set()
