"""The SimpleStore connection form in the real Airflow UI, driven by headless Chromium.

The UI is the one of the Airflow this runs on: the React UI of `airflow api-server` on 3.x
(`connection_ui_react.py`), the Flask UI of `airflow webserver` on 2.11 (`connection_ui_flask.py`).
Both follow the one walk in `connection_ui.py`, which holds every check: add a SimpleStore
connection, check the form against get_provider_info(), Test it with the right and a wrong secret,
save it, and look for the secret in the list, the edit form, the REST API and the server log.
Screenshots go to test-output/e2e/connection-ui-<airflow version>/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_simplestore.compat import AIRFLOW_V_3_0_PLUS

from .harness import AirflowHome, Deployment, Redactor, free_port

pytestmark = pytest.mark.browser


def _ui_class() -> Any:
    """The walk of this Airflow's UI (imported here: playwright is only needed once the test runs)."""
    if AIRFLOW_V_3_0_PLUS:
        from .connection_ui_react import ReactConnectionUI

        return ReactConnectionUI
    from .connection_ui_flask import FlaskConnectionUI

    return FlaskConnectionUI


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    from .connection_ui import SECRET, WRONG_SECRET

    return Redactor(SECRET, WRONG_SECRET)


@pytest.fixture(scope="module")
def ui_server(chromium_path: str, redactor: Redactor, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from .connection_ui import NAME

    ui = _ui_class()
    home = AirflowHome(
        NAME,
        dags_folder=tmp_path_factory.mktemp("no-dags"),
        api_port=free_port(),
        redactor=redactor,
        env={"AIRFLOW__CORE__TEST_CONNECTION": "Enabled", **ui.env},
    ).migrate()
    ui.prepare(home)
    deployment = Deployment(home, components=ui.components)
    try:
        yield deployment.start(timeout=120)
    finally:
        deployment.stop()


@pytest.fixture(scope="module")
def ui_sandbox() -> Iterator[Any]:
    from airflow_provider_simplestore.sandbox import run_sandbox

    from .connection_ui import SECRET

    with run_sandbox(seed=3, products=40, customers=5, orders=10, client_secret=SECRET) as sb:
        yield sb


def test_connection_form_add_test_and_masking(
    browser_page: Any, ui_server: Deployment, ui_sandbox: Any, redactor: Redactor
) -> None:
    _ui_class()(browser_page, ui_server).walk(ui_sandbox, redactor)
