"""The SimpleStore connection form in the real Airflow UI, driven by headless Chromium.

Airflow 3.3's UI has no Test button inside the add or edit form: "Test Connection" is an action of
each row of the connection list and tests the *saved* connection (the list only holds the masked
secret; the API server merges the stored one back in). So the walk is: Admin -> Connections -> Add
and choose SimpleStore (1); check the form against get_provider_info() (2); fill it for a running
sandbox, save and Test (3); edit in a wrong secret, save and Test (4); put the right secret back and
look for it in the list, the edit form, the REST API and the server log (5). Every step leaves a
screenshot in test-output/e2e/connection-ui/.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.get_provider_info import get_provider_info

from .harness import OUTPUT_DIR, AirflowHome, Deployment, Redactor, free_port

pytestmark = pytest.mark.browser

CONN_ID = "simplestore_ui"
CONN_TYPE = next(c for c in get_provider_info()["connection-types"] if c["connection-type"] == "simplestore")
HOOK_NAME: str = CONN_TYPE["hook-name"]
RELABELED: dict[str, str] = CONN_TYPE["ui-field-behaviour"]["relabeling"]  # host/login/password -> label
HIDDEN: list[str] = CONN_TYPE["ui-field-behaviour"]["hidden-fields"]
EXTRA_FIELDS: dict[str, dict[str, Any]] = CONN_TYPE["conn-fields"]
# Standard fields the UI would show under these names if the provider did not hide them.
HIDDEN_LABELS = {"port": "Port", "schema": "Schema"}

SECRET = f"ui-secret-{secrets.token_hex(12)}"
WRONG_SECRET = f"ui-wrong-{secrets.token_hex(12)}"
SHOTS = OUTPUT_DIR / "connection-ui"
TOAST_TITLE = re.compile(r"Test Connection (Successful|Failed)")


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(SECRET, WRONG_SECRET)


@pytest.fixture(scope="module")
def api_server(redactor: Redactor, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    home = AirflowHome(
        "connection-ui",
        dags_folder=tmp_path_factory.mktemp("no-dags"),
        api_port=free_port(),
        redactor=redactor,
        env={"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"},
    ).migrate()
    deployment = Deployment(home, components=["api-server"])
    try:
        yield deployment.start(timeout=120)
    finally:
        deployment.stop()


@pytest.fixture(scope="module")
def ui_sandbox() -> Iterator[Any]:
    from airflow_provider_simplestore.sandbox import run_sandbox

    with run_sandbox(seed=3, products=40, customers=5, orders=10, client_secret=SECRET) as sb:
        yield sb


def test_connection_form_add_test_and_masking(
    browser_page: Any, api_server: Deployment, ui_sandbox: Any, redactor: Redactor
) -> None:
    from playwright.sync_api import expect

    page, sb = browser_page, ui_sandbox
    api_url = api_server.home.api_url
    page.route("**/api/v2/connections/test", _drop_port_zero)

    with _diagnosed(page, api_server, redactor):
        # 1. Admin -> Connections -> Add, type SimpleStore.
        page.goto(f"{api_url}/")
        page.get_by_role("button", name="Admin", exact=True).click()
        page.get_by_role("menuitem", name="Connections", exact=True).click()
        expect(page).to_have_url(re.compile(r"/connections"))
        page.get_by_role("button", name="Add Connection").click()
        form = page.get_by_role("dialog")
        form.get_by_role("combobox", name="Connection Type").fill(HOOK_NAME)
        page.get_by_role("option", name=HOOK_NAME, exact=True).click()
        _screenshot(page, "1-add-simplestore")

        # 2. The standard fields under our labels, no schema or port; every extra with label and default.
        for field, label in RELABELED.items():
            box = form.get_by_label(label, exact=True)
            expect(box).to_be_visible()
            expect(box).to_have_attribute("name", field)
        expect(form.get_by_label(RELABELED["password"], exact=True)).to_have_attribute("type", "password")
        for field in HIDDEN:
            expect(form.locator(f'[name="{field}"]')).to_have_count(0)
        shown_labels = {t.strip() for t in form.locator("label").all_inner_texts()}
        assert not shown_labels & {HIDDEN_LABELS[f] for f in HIDDEN}, shown_labels
        _screenshot(page, "2a-standard-fields")

        form.get_by_role("button", name="Extra Fields", exact=True).click()
        extra_inputs = form.locator('[name^="element_"]')
        expect(extra_inputs).to_have_count(len(EXTRA_FIELDS))
        assert {n.removeprefix("element_") for n in _names(extra_inputs)} == set(EXTRA_FIELDS)
        for key, spec in EXTRA_FIELDS.items():
            _expect_extra_field(form, key, spec)
        _screenshot(page, "2b-extra-fields")

        # 3. Fill it for the sandbox, save, Test: success.
        form.locator('[name="element_auth_url"]').fill(sb.token_url)
        form.get_by_role("button", name="Standard Fields", exact=True).click()
        form.get_by_label("Connection ID").fill(CONN_ID)
        form.get_by_label(RELABELED["host"], exact=True).fill(sb.url)
        form.get_by_label(RELABELED["login"], exact=True).fill(sb.client_id)
        form.get_by_label(RELABELED["password"], exact=True).fill(SECRET)
        _screenshot(page, "3a-filled")
        _save(form)
        toast = _press_test(page)
        expect(toast).to_contain_text("Test Connection Successful")
        expect(toast).to_contain_text(sb.url)
        _screenshot(page, "3b-test-success")
        _assert_no_secret(toast.inner_text(), "the success message")

        # 4. A wrong secret: the failure names the rejected client id/secret, and shows no secret.
        form = _edit(page)
        password = form.get_by_label(RELABELED["password"], exact=True)
        expect(password).to_have_value("***")  # the edit form only ever receives the masked secret
        password.fill(WRONG_SECRET)
        _save(form)
        toast = _press_test(page)
        expect(toast).to_contain_text("Test Connection Failed")
        message = toast.inner_text()
        _screenshot(page, "4-test-wrong-secret")
        _assert_no_secret(message, "the failure message")
        assert re.search(r"reject", message, re.I) and re.search(r"client (id|secret)", message, re.I), (
            f"the failure message does not say the client id/secret was rejected: {message!r}"
        )

        # 5. The right secret back, saved, tested; then it is masked wherever the UI or API shows it.
        form = _edit(page)
        form.get_by_label(RELABELED["password"], exact=True).fill(SECRET)
        _save(form)
        expect(_press_test(page)).to_contain_text("Test Connection Successful")
        row = page.get_by_role("row").filter(has_text=CONN_ID)
        expect(row).to_contain_text(sb.url)
        _screenshot(page, "5a-saved-list")
        _assert_no_secret(page.content(), "the connection list page")

        form = _edit(page)
        password = form.get_by_label(RELABELED["password"], exact=True)
        form.get_by_role("button", name="Show value").click()
        expect(password).to_have_attribute("type", "text")
        expect(password).to_have_value("***")
        _screenshot(page, "5b-edit-secret-revealed-is-masked")
        _assert_no_secret(page.content(), "the edit form")
        form.get_by_role("button", name="Close").click()

        stored = api_server.api.get(f"/api/v2/connections/{CONN_ID}")
        assert stored["password"] == "***", "GET /api/v2/connections/<id> must mask the password"
        assert stored["host"] == sb.url and stored["login"] == sb.client_id
        assert json.loads(stored["extra"])["auth_url"] == sb.token_url
        _assert_no_secret(json.dumps(api_server.api.get("/api/v2/connections")), "GET /api/v2/connections")
        _assert_no_secret(api_server.processes[0].log_path.read_text(errors="replace"), "the API server log")


def _drop_port_zero(route: Any) -> None:
    """Work around an Airflow 3.3.2 bug in the row's Test button (apache/airflow#73298).

    The UI sends `port: Number(connection.port)`, i.e. 0 for a connection without a port, and the
    API server takes 0 != NULL for "a different destination": it refuses to merge the stored secret
    and answers 400 "Bad Request". The fix (in the API, which now treats 0 as no port) is merged
    upstream; dropping that 0 here does exactly what the fixed API does, so it is harmless once it ships.
    """
    body = route.request.post_data_json
    if isinstance(body, dict) and body.get("port") == 0:
        body.pop("port")
        route.continue_(post_data=json.dumps(body))
    else:
        route.continue_()


def _expect_extra_field(form: Any, key: str, spec: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    selector = f'[name="element_{key}"]'
    element = form.locator(selector)
    # `has` is matched inside each field, so it takes a page-level locator.
    field = form.locator('[data-scope="field"][data-part="root"]').filter(has=form.page.locator(selector))
    expect(field.locator('label[data-part="label"]')).to_have_text(spec["label"])
    expect(field.locator('[data-part="helper-text"]')).to_have_text(spec["description"])
    default = spec["schema"].get("default")
    types = spec["schema"]["type"]
    if "boolean" in (types if isinstance(types, list) else [types]):
        if default:
            expect(element).to_be_checked()
        else:
            expect(element).not_to_be_checked()
    else:
        expect(element).to_have_value("" if default is None else str(default))


def _names(locator: Any) -> list[str]:
    return [locator.nth(i).get_attribute("name") for i in range(locator.count())]


def _save(form: Any) -> None:
    from playwright.sync_api import expect

    form.get_by_role("button", name="Save").click()
    expect(form).to_be_hidden()


def _edit(page: Any) -> Any:
    page.get_by_role("row").filter(has_text=CONN_ID).get_by_role("button", name="Edit Connection").click()
    form = page.get_by_role("dialog")
    form.get_by_label(RELABELED["password"], exact=True).wait_for()
    return form


def _press_test(page: Any) -> Any:
    """Press the row's Test button; the toast with the result (earlier ones are waited out first)."""
    from playwright.sync_api import expect

    toasts = page.get_by_role("status").filter(has_text=TOAST_TITLE)
    expect(toasts).to_have_count(0, timeout=30_000)
    page.get_by_role("row").filter(has_text=CONN_ID).get_by_role("button", name="Test Connection").click()
    expect(toasts).to_have_count(1, timeout=60_000)
    toast = toasts.first
    # Let it finish sliding in, so the screenshot shows all of it.
    toast.evaluate("el => Promise.all(el.getAnimations({subtree: true}).map(a => a.finished.catch(() => null)))")
    return toast


def _screenshot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"step-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _assert_no_secret(text: str, where: str) -> None:
    # Never let pytest print the text: it would show the secret it found.
    for name, value in (("the client secret", SECRET), ("the wrong client secret", WRONG_SECRET)):
        if value in text:
            raise AssertionError(f"{name} appears in clear in {where}")


@contextmanager
def _diagnosed(page: Any, deployment: Deployment, redactor: Redactor) -> Iterator[None]:
    """On failure: a screenshot of the page, and the API server's log tail, in the error (redacted)."""
    try:
        yield
    except Exception as exc:
        shot = _screenshot(page, "failure")
        raise AssertionError(
            f"{redactor(f'{type(exc).__name__}: {exc}')}\nscreenshot: {shot}\n{deployment.diagnostics(60)}"
        ) from None
