"""SimpleStoreToSqlOperator: one resource into a table of any common-sql database, upserted by id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_simplestore.client.connection_fields import DEFAULT_CONN_ID
from airflow_provider_simplestore.client.pacing import Workers
from airflow_provider_simplestore.compat import AirflowFailException, BaseHook, BaseOperator
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.lineage import (
    Lineage,
    Node,
    run_extra,
    simplestore_dataset,
    table_dataset,
)
from airflow_provider_simplestore.utils.arguments import at_least, checked_workers
from airflow_provider_simplestore.utils.outlets import OpenLineageMethods, publish_output, sync_outlet, with_outlet
from airflow_provider_simplestore.utils.progress import Progress
from airflow_provider_simplestore.utils.source import (
    check_on_incomplete,
    check_resource,
    check_window_arguments,
    is_incremental,
    list_params,
    resource_spec,
    settle_listing,
    source_filters,
)
from airflow_provider_simplestore.utils.sql_statements import (
    REQUIRED_COLUMNS,
    add_column_sql,
    check_table,
    create_table_sql,
    missing_columns,
    probe_sql,
    row_values,
    table_columns,
    upsert_sql,
)
from airflow_provider_simplestore.utils.task_hook import closes_hook, new_hook, task_label
from airflow_provider_simplestore.utils.timestamps import iso, utcnow

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook


class TableMissingError(AirflowFailException):
    """The target table does not exist or lacks columns, and ``create_table`` is off (or the columns it
    lacks cannot be added: the key, ``document``, ``synced_at``)."""


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def transaction(conn: Any) -> Iterator[Any]:
    """A cursor whose statements are one transaction: committed after a clean exit, else rolled back."""
    cursor = conn.cursor()
    try:
        yield cursor
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        cursor.close()


# Airflow 3 defines no default connections: without this one, the example would fail on a fresh install.
EMBEDDED_SQLITE_CONN_ID = "sqlite_default"
EMBEDDED_SQLITE_FILE = "simplestore.db"


def embedded_sqlite_hook() -> Any:
    """A SqliteHook on ``$AIRFLOW_HOME/simplestore.db``, for when ``sqlite_default`` is not defined."""
    import os

    from airflow.providers.common.compat.sdk import Connection
    from airflow.providers.sqlite.hooks.sqlite import SqliteHook

    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    path = os.path.join(home, EMBEDDED_SQLITE_FILE)
    connection = Connection(conn_id=EMBEDDED_SQLITE_CONN_ID, conn_type="sqlite", host=path)

    class EmbeddedSqliteHook(SqliteHook):
        def get_connection(self, conn_id: str) -> Any:  # the connection is ours, not the metadata DB's
            return connection

    hook = EmbeddedSqliteHook(sqlite_conn_id=EMBEDDED_SQLITE_CONN_ID)
    hook.path = path
    return hook


class SimpleStoreToSqlOperator(OpenLineageMethods, BaseOperator):
    """Load a SimpleStore resource into a database table, upserting by the resource's id.

    Works with any common-sql ``DbApiHook`` connection (SQLite, PostgreSQL, ...): the SQL is the
    portable subset (``CREATE TABLE IF NOT EXISTS``, ``INSERT ... ON CONFLICT (id) DO UPDATE``)
    with the hook's own parameter placeholder. Rows are written in batches, one transaction per
    batch; every write is an idempotent upsert, so a retried or re-run task converges.

    The table has ``id`` (primary key), ``version``, a typed column for every documented field of the
    resource (``TYPED_COLUMNS`` in ``utils/sql_statements.py``, derived from ``client/fields.py``;
    nested objects flattened, ``basePrice.retailPrice`` -> ``base_price_retail_price``; lists and
    free-form maps as JSON text), ``document`` (the full JSON record as text: a field the platform
    adds later is kept there) and ``synced_at`` (UTC ISO text). With ``create_table=True`` a table of
    an earlier release gets the columns it lacks (``ALTER TABLE ... ADD COLUMN``); with
    ``create_table=False`` a missing table, or one lacking columns, is a clear error before any API
    call, and nothing is written.

    Orders are loaded incrementally by default: ``createdOnUtc`` in the run's data interval, so
    hourly runs, retries and catch-up runs each touch only their own window.

    :param resource: products, categories, collections, specials, customers, orders, baskets or folders.
    :param table: target table, ``name`` or ``schema.name`` (templated; letters, digits, underscores).
    :param sql_conn_id: an Airflow connection whose hook is a ``DbApiHook`` (templated). When it is
        ``sqlite_default`` and not defined (Airflow 3 defines no default connections), an embedded
        SQLite file ``$AIRFLOW_HOME/simplestore.db`` is used, and the log says so.
    :param create_table: create the table when it does not exist, and add the typed columns it lacks.
    :param batch_size: rows per insert batch and transaction.
    :param incremental: filter on the data interval (default: True for orders).
    :param created_from: start of the window, inclusive (templated; default data_interval_start).
    :param created_to: end of the window, exclusive (templated; default data_interval_end).
    :param filters: extra list filters sent as query parameters (templated).
    :param page_size: records per API request (default: the connection's).
    :param max_workers: pages fetched in parallel by the hook, or ``"auto"`` (adapts, up to 16).
    :param on_incomplete: ``"fail"`` (default): a listing that gave fewer records than it promised,
        or changed while it was read, fails the task once the rows listed are upserted (a re-run
        converges); ``"warn"``: log it and succeed.
    :param simplestore_conn_id: the SimpleStore connection (templated).
    :param asset_alias: the ``AssetAlias`` the table's asset event goes through (default
        ``simplestore-sql-<resource>``; the table's URI depends on the connection, known only when the
        task runs). The event's extra: resource, table, rows, the data interval. See docs/lineage.md.
    :return: the number of rows written (inserted or updated).
    """

    template_fields: Sequence[str] = (
        "simplestore_conn_id",
        "sql_conn_id",
        "table",
        "created_from",
        "created_to",
        "filters",
    )
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        resource: str,
        table: str,
        sql_conn_id: str = "sqlite_default",
        create_table: bool = True,
        batch_size: int = 500,
        incremental: bool | None = None,
        created_from: Any = None,
        created_to: Any = None,
        filters: dict[str, Any] | str | None = None,  # a dict, or a template that renders to one
        page_size: int | None = None,
        max_workers: Workers = 1,
        on_incomplete: str = "fail",
        progress_interval: float = 10.0,
        simplestore_conn_id: str = DEFAULT_CONN_ID,
        asset_alias: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.static_asset = None  # the table's name depends on the SQL connection: always the alias
        self.asset_alias, outlet = sync_outlet("sql", check_resource(resource), asset_alias)
        super().__init__(**with_outlet(kwargs, outlet))
        self.simplestore_conn_id = simplestore_conn_id
        # What to read (checked now: a DAG with a bad argument fails to parse, naming it).
        self.resource = check_resource(resource)
        self.incremental = is_incremental(resource, incremental)
        check_window_arguments(resource, self.incremental, created_from, created_to, task_label(self))
        source_filters(resource, filters, task_label(self), templated=True)
        self.created_from, self.created_to, self.filters = created_from, created_to, filters
        self.page_size, self.max_workers = page_size, checked_workers(max_workers)
        self.on_incomplete = check_on_incomplete(on_incomplete)
        self.progress_interval = progress_interval
        # Where to write it.
        self.batch_size = at_least("batch_size", batch_size, 1)
        self.sql_conn_id, self.table, self.create_table = sql_conn_id, table, create_table
        self.lineage: Lineage | None = None

    @cached_property
    def hook(self) -> SimpleStoreHook:
        return new_hook(self.simplestore_conn_id, self.page_size)

    def get_db_hook(self) -> DbApiHook:
        from airflow.providers.common.sql.hooks.sql import DbApiHook

        from airflow_provider_simplestore.compat import AirflowNotFoundException

        try:
            hook = BaseHook.get_hook(self.sql_conn_id)
        except AirflowNotFoundException:
            if self.sql_conn_id != EMBEDDED_SQLITE_CONN_ID:
                raise SimpleStoreConfigError(
                    f"sql_conn_id {self.sql_conn_id!r} is not defined; create that connection (UI, "
                    f"`airflow connections add`, or AIRFLOW_CONN_{self.sql_conn_id.upper()})"
                ) from None
            hook = embedded_sqlite_hook()
            self.log.info(
                "Connection %r is not defined: using the embedded SQLite database %s "
                "(define the connection to write elsewhere)",
                self.sql_conn_id,
                hook.path,
            )
        if not isinstance(hook, DbApiHook):
            raise SimpleStoreConfigError(
                f"sql_conn_id {self.sql_conn_id!r} gives a {type(hook).__name__}, not a common-sql DbApiHook"
            )
        return hook

    @closes_hook
    def execute(self, context: Context) -> int:
        check_table(self.table)
        params, what, _ = list_params(
            context,
            resource=self.resource,
            incremental=self.incremental,
            filters=self.filters,
            created_from=self.created_from,
            created_to=self.created_to,
            where=task_label(self),
        )
        db = self.get_db_hook()
        conn = db.get_conn()
        try:
            self._prepare_table(conn)
            written = self._load(conn, db.placeholder, params, what)
        finally:
            conn.close()
        self.lineage = self.lineage_plan(db).with_output_counts(written)
        publish_output(
            context,
            self.lineage,
            run_extra(context, resource=self.resource, table=self.table, rows=written),
            alias=self.asset_alias,
            asset=self.static_asset,
        )
        return written

    def lineage_plan(self, db: Any = None) -> Lineage:
        """The resource read and the table written (named after the SQL connection), with their columns."""
        from airflow_provider_simplestore.utils.formats import CSV_COLUMNS

        db = db or self.get_db_hook()
        conn = db.get_connection(getattr(db, db.conn_name_attr))
        table = table_dataset(
            conn.conn_type or "",
            self.table,
            host=getattr(db, "path", None) or conn.host,
            port=conn.port,
            database=getattr(db, "database", None) or conn.schema,
        )
        return Lineage(
            inputs=[
                Node(
                    simplestore_dataset(self.hook.settings.base_url, self.resource),
                    tuple((name, "string") for name in CSV_COLUMNS[self.resource]),
                )
            ],
            outputs=[Node(table, tuple((c.name, c.sql_type) for c in table_columns(self.resource)))],
        )

    def _prepare_table(self, conn: Any) -> None:
        """Create the table, or add the typed columns an older release's table lacks (create_table=True);
        else refuse, naming what is missing, before any API call."""
        missing = self._missing_columns(conn)
        if missing == []:
            return
        expected = f"Expected: {create_table_sql(self.table, self.resource)}"
        where = f"in {self.sql_conn_id!r}"
        if missing is None and not self.create_table:
            raise TableMissingError(
                f"table {self.table} does not exist {where}; pass create_table=True to create it. {expected}"
            )
        if missing is None:
            self.log.info("Creating table %s", self.table)
            self._run_ddl(conn, [create_table_sql(self.table, self.resource)])
            return
        required = [name for name in missing if name in REQUIRED_COLUMNS]
        if required:
            raise TableMissingError(
                f"table {self.table} lacks columns {', '.join(missing)} {where}; {', '.join(required)} cannot be "
                f"added to an existing "
                f"table (the key and NOT NULL columns): it was not created by this operator. {expected}"
            )
        statements = [add_column_sql(self.table, self.resource, name) for name in missing]
        if not self.create_table:
            raise TableMissingError(
                f"table {self.table} lacks columns {', '.join(missing)} {where} (a table of an earlier release?); pass "
                f"create_table=True to add them, or run: {'; '.join(statements)}"
            )
        self.log.info(
            "Adding columns to %s: %s (existing rows hold NULL there until they are upserted again; "
            "their document column has the values)",
            self.table,
            ", ".join(missing),
        )
        try:
            self._run_ddl(conn, statements)
        except Exception:
            if self._missing_columns(conn):  # else a concurrent run added them first
                raise

    @staticmethod
    def _run_ddl(conn: Any, statements: list[str]) -> None:
        with transaction(conn) as cursor:
            for statement in statements:
                cursor.execute(statement)

    def _missing_columns(self, conn: Any) -> list[str] | None:
        """Columns the table lacks, or None when there is no such table (portable: a probe query)."""
        cursor = conn.cursor()
        try:
            cursor.execute(probe_sql(self.table))
            present = [d[0] for d in cursor.description or ()]
        except Exception:
            conn.rollback()  # PostgreSQL aborts the transaction on an error
            return None
        finally:
            cursor.close()
        conn.rollback()
        return missing_columns(self.resource, present)

    def _load(self, conn: Any, placeholder: str, params: dict[str, Any], what: str) -> int:
        spec = resource_spec(self.resource)
        statement = upsert_sql(self.table, self.resource, placeholder)
        # Fixed precision, so that synced_at sorts correctly as text.
        synced_at = iso(utcnow(), timespec="microseconds")
        progress = Progress(self.log, what, interval=self.progress_interval)
        written = 0
        from airflow_provider_simplestore.client.wire import ListingCheck  # lazily: DAG parsing stays fast

        check = ListingCheck(spec.list_path)

        def records() -> Iterator[dict[str, Any]]:
            for page in self.hook.paginate_pages(
                spec.list_path, params=params, max_workers=self.max_workers, check=check
            ):
                progress.page(len(page.items), total=page.total_records, total_pages=page.total_pages)
                yield from page.items

        self.log.info("Loading %s into %s", what, self.table)
        for batch in batched(records(), self.batch_size):
            rows = [row_values(record, self.resource, spec.id_field, synced_at) for record in batch]
            with transaction(conn) as cursor:
                cursor.executemany(statement, rows)
            written += len(rows)
        progress.finish(f", {written} rows upserted into {self.table}")
        settle_listing(check.problems, self.on_incomplete, what)
        return written
