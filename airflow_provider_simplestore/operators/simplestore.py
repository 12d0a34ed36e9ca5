"""SimpleStoreOperator: one API call, its JSON result to XCom."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_simplestore.client.connection_fields import DEFAULT_CONN_ID
from airflow_provider_simplestore.client.resources import RESOURCES, is_template
from airflow_provider_simplestore.compat import BaseOperator
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.arguments import at_least
from airflow_provider_simplestore.utils.task_hook import closes_hook, new_hook, task_label

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook


DEFAULT_MAX_XCOM_BYTES = 1024 * 1024
METHODS = ("GET", "POST", "PUT", "DELETE")
PAGING_PARAMS = ("pagesize", "pageindex")  # a list's paging parameters, in any case; not filters


class ResultTooLargeError(SimpleStoreConfigError):
    """The result is bigger than ``max_xcom_bytes``: XCom is for small values."""


class SimpleStoreOperator(BaseOperator):
    """Call one SimpleStore endpoint and push the decoded JSON result to XCom.

    The hook does authentication, retries (GET/PUT/DELETE; a POST whose outcome is unknown is
    not repeated) and error mapping. The result, after ``response_filter``, must fit in
    ``max_xcom_bytes`` once JSON-encoded; to move whole resources use
    ``SimpleStoreToObjectStorageOperator`` (to files) or ``SimpleStoreToSqlOperator`` (to a table).

    :param endpoint: path under the API base URL (templated). ``.``/``..`` segments (raw,
        percent-encoded or full-width), a scheme or a host are refused. Put ids in plain ``{name}``
        placeholders and pass them in ``path_ids``, e.g. ``endpoint="/v1/products/{product_id}"``.
    :param path_ids: values of the endpoint's ``{placeholders}`` (templated); each is quoted as one
        path segment, so an id can never reach another resource.
    :param method: GET, POST, PUT or DELETE.
    :param query: query parameters (templated). Named ``query`` because ``params`` is Airflow's. For
        a ``GET`` of a resource's list (``/v1/orders``) its names are checked like every operator's
        filters (the API's names, e.g. ``Status``, or the filters' python names, e.g. ``status``; any
        case; plus ``pageSize`` and ``pageIndex``): a misspelt one fails before any request.
    :param json: request body (templated).
    :param response_filter: ``callable(result) -> value`` applied before the XCom push.
    :param max_xcom_bytes: largest JSON result pushed to XCom (default 1 MiB); 0 turns the check off.
    :param simplestore_conn_id: the SimpleStore connection (templated).
    """

    template_fields: Sequence[str] = ("simplestore_conn_id", "endpoint", "path_ids", "method", "query", "json")
    template_fields_renderers = {"query": "json", "json": "json"}
    ui_color = "#e8f4ea"

    def __init__(
        self,
        *,
        endpoint: str,
        path_ids: dict[str, Any] | None = None,
        method: str = "GET",
        query: dict[str, Any] | None = None,
        json: Any = None,
        response_filter: Callable[[Any], Any] | None = None,
        max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
        simplestore_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.simplestore_conn_id = simplestore_conn_id
        self.method, self.endpoint, self.path_ids = method, endpoint, path_ids  # what to call
        self.query, self.json = query, json  # what to send
        self.response_filter = response_filter  # what to keep of the answer
        self.max_xcom_bytes = at_least("max_xcom_bytes", max_xcom_bytes, 0)
        if not (is_template(endpoint) or is_template(method) or path_ids):  # else checked once rendered
            self._checked_query(str(method).upper(), endpoint, templated=True)

    @cached_property
    def hook(self) -> SimpleStoreHook:
        return new_hook(self.simplestore_conn_id)

    @closes_hook
    def execute(self, context: Context) -> Any:
        method = str(self.method).upper()
        if method not in METHODS:
            raise SimpleStoreConfigError(f"unknown method {self.method!r}; expected one of {', '.join(METHODS)}")
        path = self._path()
        query = self._checked_query(method, path)
        self.log.info("Calling %s %s", method, path)
        result = self.hook.request(method, path, params=query, json=self.json)
        if self.response_filter is not None:
            result = self.response_filter(result)
        if self.max_xcom_bytes and result is not None:
            size = len(json.dumps(result, default=str).encode())
            if size > self.max_xcom_bytes:
                raise ResultTooLargeError(
                    f"{method} {path}: the result is {size} bytes, over max_xcom_bytes="
                    f"{self.max_xcom_bytes}. Narrow it with response_filter, or move the data with "
                    "SimpleStoreToObjectStorageOperator (to a file) or SimpleStoreToSqlOperator (to a table)."
                )
        return result

    def _checked_query(self, method: str, path: str, *, templated: bool = False) -> Any:
        """`query`, checked as a resource's filters when the call lists that resource (`Resource.query`:
        a misspelt name would silently list everything); any other call sends it as given."""
        spec = next((r for r in RESOURCES.values() if r.list_path == path.rstrip("/")), None)
        if spec is None or method != "GET" or not isinstance(self.query, Mapping):
            return self.query
        paging = {k: v for k, v in self.query.items() if isinstance(k, str) and k.lower() in PAGING_PARAMS}
        filters = {k: v for k, v in self.query.items() if k not in paging}
        return {**paging, **spec.query(filters, where=task_label(self), api_names=True, templated=templated)}

    def _path(self) -> str:
        """The endpoint with its path_ids quoted in, checked before any request."""
        from airflow_provider_simplestore.client.resources import Endpoint
        from airflow_provider_simplestore.client.wire import check_path

        path = str(self.endpoint)
        if self.path_ids:
            try:
                path = Endpoint("", path).format(**self.path_ids)
            except (TypeError, ValueError, IndexError) as exc:
                raise SimpleStoreConfigError(f"endpoint {path!r} with path_ids {self.path_ids!r}: {exc}") from None
        check_path(path)
        return path
