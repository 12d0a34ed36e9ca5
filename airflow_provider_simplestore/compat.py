"""The Airflow versions this provider runs on (2.11 through 3.3), and what differs between them.

Most of what moved between Airflow 2 and 3 is covered by ``apache-airflow-providers-common-compat``
(``airflow.providers.common.compat.sdk``: base classes, exceptions, ``ObjectStoragePath``,
``mask_secret``; ``...compat.connection``: async connection reads), as in the official providers.
This module holds only what that package does not cover, and refuses an unsupported Airflow with
one clear error before anything else of the provider touches Airflow.

Every runtime module imports Airflow names from here, so the version check always runs first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from airflow import __version__ as AIRFLOW_VERSION

MIN_AIRFLOW = (2, 11, 0)
SUPPORTED_RANGE = "apache-airflow>=2.11.0 (2.11 and 3.0 through 3.3 are tested)"
T = TypeVar("T")


class SimpleStoreAirflowVersionError(ImportError):
    """The installed Airflow is older than this provider supports."""


def _release(version: str) -> tuple[int, ...]:
    """(major, minor, micro) of a version string such as ``3.3.2``, ``3.1.0rc1`` or ``2.11.0.dev0``."""
    parts: list[int] = []
    for piece in version.split(".")[:3]:
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        parts.append(int(digits or 0))
    return tuple(parts + [0] * (3 - len(parts)))


AIRFLOW_RELEASE = _release(AIRFLOW_VERSION)
if AIRFLOW_RELEASE < MIN_AIRFLOW:
    raise SimpleStoreAirflowVersionError(
        f"airflow-provider-simplestore needs {SUPPORTED_RANGE}; this environment has Airflow "
        f"{AIRFLOW_VERSION}. Upgrade Airflow, or pin an older provider."
    )

AIRFLOW_V_3_0_PLUS = AIRFLOW_RELEASE >= (3, 0, 0)
AIRFLOW_V_3_3_PLUS = AIRFLOW_RELEASE >= (3, 3, 0)

# The names the provider uses, from common-compat (newest Airflow path first, Airflow 2 path after).
# Asset/AssetAlias are Dataset/DatasetAlias on 2.11 (airflow.datasets, which any DAG loads anyway).
# The providers' deprecation warning: in airflow.exceptions on every supported version.
from airflow.exceptions import AirflowProviderDeprecationWarning  # noqa: E402
from airflow.providers.common.compat.sdk import (  # noqa: E402 - after the version check, on purpose
    AirflowException,
    AirflowFailException,
    AirflowNotFoundException,
    AirflowSensorTimeout,
    Asset,
    AssetAlias,
    BaseHook,
    BaseOperator,
    BaseSensorOperator,
    Connection,
    PokeReturnValue,
)

try:  # Airflow's config (3.x: the Task SDK's), from common-compat where it re-exports it
    from airflow.providers.common.compat.sdk import conf
except ImportError:  # common-compat 1.20 (Python 3.10)
    from airflow.configuration import conf

# common-compat re-exports mask_secret from 1.21, which needs Python 3.11; on Python 3.10 pip
# installs 1.20, the last release for it, which does not have it.
if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk.log import mask_secret
else:
    from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]


async def run_blocking(func: Callable[..., T], /, *args: Any) -> T:
    """Run a blocking Airflow call (a connection read, ``mask_secret``) from an event loop.

    Before 3.3 such calls may ask the task or trigger supervisor over a channel that answers one
    request at a time. The triggerer of 3.0-3.2 sends a worker thread's request through the event
    loop's own channel only when the thread is asgiref's ``sync_to_async`` thread (which it knows);
    from any other thread (``asyncio.to_thread``) it opens a second loop on the same socket, the
    answers cross, and the trigger runner dies ("Response read out of order"). So every such call
    goes through ``sync_to_async``: one shared thread, requests relayed by the loop, in order.
    """
    from asgiref.sync import sync_to_async

    return await sync_to_async(func, thread_sensitive=True)(*args)


async def amask_secret(secret: str) -> None:
    """``mask_secret`` for code on an event loop (triggers, async tasks).

    3.3 has ``airflow.sdk.log.amask_secret``. Before it, ``mask_secret`` may make a blocking call
    to the supervisor, which must not run on the event loop (see ``run_blocking``).
    """
    if AIRFLOW_V_3_3_PLUS:
        from airflow.sdk.log import amask_secret as masker

        await masker(secret)
    else:
        await run_blocking(mask_secret, secret)


async def aget_connection_and_extras(hook: BaseHook, conn_id: str) -> tuple[Connection, dict[str, Any]]:
    """The connection and its extras, read without blocking the event loop, on every version.

    Only 3.3 reads and masks a connection asynchronously (``aget_connection`` with
    ``aextra_dejson``). Before it, ``aget_connection`` (3.1+) masks with a blocking call to the
    supervisor, so the sync reads go through ``run_blocking``, as common-compat 1.23's
    ``get_async_connection`` does (that release needs Python 3.11; 3.10 has 1.20).
    """
    if hasattr(hook, "aget_connection") and hasattr(Connection, "aextra_dejson"):
        conn = await hook.aget_connection(conn_id)
        return conn, await conn.aextra_dejson()
    conn = await run_blocking(hook.get_connection, conn_id)
    # As Airflow parsed it: the settings refuse an extra that is not a JSON object, naming it.
    return conn, await run_blocking(lambda: conn.extra_dejson)


def register_asset_alias(name: str) -> None:
    """Airflow 2.11: make sure the DatasetAlias row exists before a task emits through it.

    2.11's DAG processor writes a DAG's aliases when it parses the file, but `airflow dags test`
    (the CLI) runs a DAG it never synced: the alias is missing and 2.11 fails the task after its
    work is done (`Can't flush None value found in collection DatasetModel.aliases`). 3.x creates
    a missing alias itself, so there this does nothing. Tasks on 2.11 have the metadata database.
    """
    if AIRFLOW_V_3_0_PLUS:
        return
    from airflow.models.dataset import DatasetAliasModel
    from airflow.utils.session import create_session
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    try:
        with create_session() as session:
            if session.scalar(select(DatasetAliasModel.id).where(DatasetAliasModel.name == name)) is None:
                session.add(DatasetAliasModel(name=name))
    except IntegrityError:  # another task added it at the same moment: it exists
        pass


def get_hook_lineage_collector() -> Any:
    """Airflow's hook lineage collector with the asset methods (``add_input_asset``, ...) on every
    version: common-compat renames 2.11's dataset methods."""
    try:
        from airflow.providers.common.compat.lineage.hook import get_hook_lineage_collector as collector
    except ImportError:  # common-compat releases before its lineage module
        from airflow.providers.common.compat.sdk import get_hook_lineage_collector as collector
    return collector()


def hook_lineage_has_readers() -> bool:
    """Whether a plugin reads hook lineage (the OpenLineage provider does, when it is enabled).

    Airflow decides the same way whether its collector records anything; but building even its no-op
    collector discovers every provider's asset factories (with the amazon provider, an import of
    boto3: 0.2-0.4 s of a task), so without a reader the provider does not ask for it."""
    import importlib

    try:
        try:
            sdk_plugins: Any = importlib.import_module("airflow.sdk.plugins_manager")  # 3.2+
            return bool(sdk_plugins.get_hook_lineage_readers_plugins())
        except (ImportError, AttributeError):
            plugins: Any = importlib.import_module("airflow.plugins_manager")  # 2.11-3.1
            plugins.initialize_hook_lineage_readers_plugins()
            return bool(plugins.hook_lineage_reader_classes)
    except Exception:  # another layout of the plugins manager: let Airflow's collector decide
        return True


def triggering_asset_events(context: Any) -> list[tuple[str, dict[str, Any]]]:
    """(uri, extra) of each asset event that started this run, once each (3.x: the context's
    ``triggering_asset_events``, which may list one event under its alias and its asset; 2.11:
    ``triggering_dataset_events``)."""
    events = context.get("triggering_asset_events") or context.get("triggering_dataset_events") or {}
    found: dict[Any, tuple[str, dict[str, Any]]] = {}
    for listed in events.values():
        for event in listed:
            target = getattr(event, "asset", None) or event.dataset
            key = getattr(event, "id", None) or (target.uri, str(event.timestamp))
            found.setdefault(key, (target.uri, dict(event.extra or {})))
    return list(found.values())


def dag_test(dag: Any, logical_date: Any = None, **kwargs: Any) -> Any:
    """``dag.test()`` of one logical date (Airflow 2 calls the argument ``execution_date``)."""
    if AIRFLOW_V_3_0_PLUS:
        return dag.test(logical_date=logical_date, **kwargs)
    # 2.11's DagRun has a note whose author is FAB's user table: without that model loaded, testing
    # a logical date that already has a run fails to map the ORM ("could not find table 'ab_user'").
    from contextlib import suppress

    with suppress(ImportError):
        import airflow.providers.fab.auth_manager.models  # noqa: F401
    # 2.11 records an event through a DatasetAlias only if the alias is in the database, where its
    # DAG processor puts the DAG's outlets; dag.test() does not (the sync operators' outlets are aliases).
    dag.sync_to_db()
    return dag.test(execution_date=logical_date, **kwargs)


def manual_run_interval(dag: Any, run_after: Any) -> tuple[Any, Any]:
    """(start, end) of the data interval ``dag``'s schedule gives a manual run at ``run_after``.

    Only Airflow's own (core) timetables compute it; from 3.2 a DAG holds Task SDK timetables,
    converted the way the standard provider's ``LatestOnlyOperator`` converts them.
    """
    timetable = dag.timetable
    try:
        from airflow.serialization.encoders import coerce_to_core_timetable
    except ImportError:  # before 3.2 the DAG's timetable is the core one
        pass
    else:
        timetable = coerce_to_core_timetable(timetable)
    import pendulum  # timetables compute with pendulum; a run's run_after may be a plain datetime

    interval = timetable.infer_manual_data_interval(run_after=pendulum.instance(run_after))
    return interval.start, interval.end


def built_from_mapping(operator: Any) -> bool:
    """Whether ``operator`` is being built from a mapped task (``.partial().expand...``) as it runs.

    Every supported Airflow (2.11's ``BaseOperator``, 3.x's Task SDK one) records this before the
    operator's own ``__init__`` runs, in the attribute read here.
    """
    return bool(getattr(operator, "_BaseOperator__from_mapped", False))


def default_deferrable() -> bool:
    """Airflow's ``[operators] default_deferrable``: what ``deferrable`` defaults to, as in the
    official providers (read when an operator is built, so the running config counts)."""
    return conf.getboolean("operators", "default_deferrable", fallback=False)


def cron_data_interval_timetable(cron: str, timezone: str = "UTC") -> Any:
    """A cron timetable whose runs cover the interval since the previous tick, on every version.

    Airflow 3 turns ``schedule="<cron>"`` into a trigger timetable (no data interval). 3.3 has the
    class in the Task SDK; 2.11-3.2 DAGs take the one in ``airflow.timetables``.
    """
    if AIRFLOW_V_3_3_PLUS:
        from airflow.sdk import CronDataIntervalTimetable
    else:
        from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[assignment]
    return CronDataIntervalTimetable(cron, timezone=timezone)


__all__ = [
    "AIRFLOW_RELEASE",
    "AIRFLOW_VERSION",
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "SUPPORTED_RANGE",
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowProviderDeprecationWarning",
    "AirflowSensorTimeout",
    "Asset",
    "AssetAlias",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "Connection",
    "PokeReturnValue",
    "SimpleStoreAirflowVersionError",
    "aget_connection_and_extras",
    "amask_secret",
    "built_from_mapping",
    "conf",
    "cron_data_interval_timetable",
    "dag_test",
    "default_deferrable",
    "get_hook_lineage_collector",
    "hook_lineage_has_readers",
    "manual_run_interval",
    "mask_secret",
    "register_asset_alias",
    "run_blocking",
    "triggering_asset_events",
]
