"""Set-up of every worker process of the local cluster (a Dask preload module, run once as each worker starts).

Ctrl-C in a terminal signals the whole foreground process group: the driver and the cluster's worker
processes alike. The driver handles it (running trials are marked interrupted and it closes the cluster);
a worker that also took it would die with a traceback on the user's screen. Workers therefore ignore SIGINT
and stop when the driver closes the cluster (or with it, when the driver is killed).
"""

from __future__ import annotations

import signal
from typing import Any


def dask_setup(worker: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
