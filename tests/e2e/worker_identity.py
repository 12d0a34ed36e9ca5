"""`[core] hostname_callable` for the Celery deployment test's workers.

Both workers run on this one machine, so the real host name cannot tell their task instances apart;
each worker's environment names it instead (SIMPLESTORE_E2E_WORKER), and Airflow records that as
the task instance's `hostname`.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("SIMPLESTORE_E2E_WORKER") or socket.getfqdn()
