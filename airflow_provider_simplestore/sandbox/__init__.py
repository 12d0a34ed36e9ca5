"""The SimpleStore sandbox: a local platform for the demo, the tests and the benchmarks.

`run_sandbox(**options)` serves it on a free 127.0.0.1 port (in a thread, or in a child process
with `subprocess=True`) and yields a `Sandbox` handle; `python -m airflow_provider_simplestore.sandbox`
serves it from the command line. `README.md` next to this file has the one table of every choice
the sandbox makes where the platform's docs are silent, with its status codes.

Importing this package is cheap: FastAPI and uvicorn load only when a sandbox starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_simplestore.sandbox.options import SandboxOptions
    from airflow_provider_simplestore.sandbox.server import Sandbox, SandboxError, run_sandbox

__all__ = ["Sandbox", "SandboxError", "SandboxOptions", "run_sandbox"]


def __getattr__(name: str) -> Any:
    if name in ("Sandbox", "SandboxError", "run_sandbox"):
        from airflow_provider_simplestore.sandbox import server

        return getattr(server, name)
    if name == "SandboxOptions":
        from airflow_provider_simplestore.sandbox.options import SandboxOptions

        return SandboxOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
