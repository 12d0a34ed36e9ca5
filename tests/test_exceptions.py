"""exceptions.py: the errors keep their class and fields through pickling and Airflow's serialize()."""

from __future__ import annotations

import json
import pickle

from airflow_provider_simplestore.client import failures
from airflow_provider_simplestore.client.failures import error_from_response
from airflow_provider_simplestore.exceptions import SimpleStoreNotFoundError, SimpleStoreServerError

PROBLEM = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "product 'p1' was not found"}


def test_errors_survive_pickling_with_their_fields() -> None:
    error = error_from_response("GET", "/v1/orders", 503, {"x-request-id": "r1"}, json.dumps(PROBLEM), retry_after=2)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is SimpleStoreServerError and str(copy) == str(error)
    assert (copy.status, copy.request_id, copy.retry_after, copy.title) == (503, "r1", 2, "Not Found")
    transport = failures.transport_error("POST", "/v1/cart", "h:1", reason="connect", request_sent=False)
    copy_t = pickle.loads(pickle.dumps(transport))
    assert (copy_t.reason, copy_t.request_sent, copy_t.method) == ("connect", False, "POST")


def test_airflow_serialize_round_trip() -> None:
    error = error_from_response("GET", "/v1/orders", 404, {}, json.dumps(PROBLEM))
    classpath, args, kwargs = error.serialize()
    assert classpath == "airflow_provider_simplestore.exceptions.SimpleStoreNotFoundError"
    assert str(SimpleStoreNotFoundError(*args, **kwargs)) == str(error)
