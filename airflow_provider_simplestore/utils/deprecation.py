"""The warning of an import path kept, for one release, after its module moved."""

from __future__ import annotations

import warnings

from airflow_provider_simplestore.compat import AirflowProviderDeprecationWarning

REMOVED_IN = "2.0"


def warn_moved(old: str, new: str) -> None:
    """Warn, from a module left at its old path, that `old` is now `new` (the caller's import line)."""
    warnings.warn(
        f"{old} moved to {new}; import it from there (the old path is removed in version {REMOVED_IN})",
        AirflowProviderDeprecationWarning,
        stacklevel=3,
    )
