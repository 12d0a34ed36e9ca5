"""The connection-form walk on Airflow 3's React UI (`airflow api-server`), 3.0 through 3.3.

The 3.x UI has no Test button inside the add or edit form: "Test Connection" is an action of each
row of the connection list and tests the *saved* connection (the list only holds the masked secret;
the API server merges the stored one back in). So a Test here first saves the open form, and a new
secret is put in through the row's edit form. 3.0's UI has no Test at all: there the walk posts
the saved connection to the API's test endpoint, as 3.1's button does. The extra fields come from
the hook's form methods on 3.0-3.1 and from `conn-fields` on 3.2+; the form looks the same, except
that 3.0-3.1 draw the reveal button of the secret field without a name.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, ClassVar

from playwright.sync_api import expect

from airflow_provider_simplestore.compat import AIRFLOW_RELEASE, AIRFLOW_V_3_3_PLUS

from .connection_ui import CONN_ID, HOOK_NAME, RELABELED, ConnectionUI, FormLayout, TestOutcome
from .harness import Deployment

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Route

HAS_TEST_BUTTON = AIRFLOW_RELEASE >= (3, 1, 0)
TOAST_TITLE = re.compile(r"Test Connection (Successful|Failed)")


class ReactConnectionUI(ConnectionUI):
    layout = FormLayout(
        extra_prefix="element_",
        field='[data-scope="field"][data-part="root"]',
        label='label[data-part="label"]',
        description='[data-part="helper-text"]',
    )
    components: ClassVar[tuple[str, ...]] = ("api-server",)
    # 3.0's JWT issuer setting, without which every login answers 500: AirflowHome sets it.
    env: ClassVar[dict[str, str]] = {}

    def __init__(self, page: Page, deployment: Deployment) -> None:
        super().__init__(page, deployment)
        self.form: Locator | None = None  # the open add or edit dialog
        self.secret = ""  # the secret last typed into the form
        if AIRFLOW_V_3_3_PLUS:
            page.route("**/api/v2/connections/test", _drop_port_zero)

    def open_add_form(self) -> Locator:
        page = self.page
        page.goto(f"{self.url}/")
        page.get_by_role("button", name="Admin", exact=True).click()
        page.get_by_role("menuitem", name="Connections", exact=True).click()
        expect(page).to_have_url(re.compile(r"/connections"))
        page.get_by_role("button", name="Add Connection").click()
        form = self.form = page.get_by_role("dialog")
        form.get_by_role("combobox", name="Connection Type").fill(HOOK_NAME)
        page.get_by_role("option", name=HOOK_NAME, exact=True).click()
        return form

    def show_extra_fields(self, form: Locator) -> None:
        form.get_by_role("button", name="Extra Fields", exact=True).click()

    def fill(self, form: Locator, *, host: str, login: str, secret: str, auth_url: str) -> None:
        form.locator(f'[name="{self.layout.extra_prefix}auth_url"]').fill(auth_url)
        form.get_by_role("button", name="Standard Fields", exact=True).click()
        form.get_by_label("Connection ID").fill(CONN_ID)
        form.get_by_label(RELABELED["host"], exact=True).fill(host)
        form.get_by_label(RELABELED["login"], exact=True).fill(login)
        form.get_by_label(RELABELED["password"], exact=True).fill(secret)
        self.secret = secret

    def set_secret(self, secret: str) -> None:
        form = self.open_edit()
        password = form.get_by_label(RELABELED["password"], exact=True)
        expect(password).to_have_value("***")  # the edit form only ever receives the masked secret
        password.fill(secret)
        self.secret = secret

    def press_test(self) -> TestOutcome:
        """Save the open form, press the row's Test button; the toast (earlier ones waited out first)."""
        self.save()
        if not HAS_TEST_BUTTON:
            return self._test_through_api()
        page = self.page
        toasts = page.get_by_role("status").filter(has_text=TOAST_TITLE)
        expect(toasts).to_have_count(0, timeout=30_000)
        page.get_by_role("row").filter(has_text=CONN_ID).get_by_role("button", name="Test Connection").click()
        expect(toasts).to_have_count(1, timeout=60_000)
        toast = toasts.first
        # Let it finish sliding in, so the screenshot shows all of it.
        toast.evaluate("el => Promise.all(el.getAnimations({subtree: true}).map(a => a.finished.catch(() => null)))")
        text = toast.inner_text()
        return TestOutcome(ok="Test Connection Successful" in text, message=text)

    def _test_through_api(self) -> TestOutcome:
        """3.0's UI has no Test button (3.1 added it), and its API tests only the connection it is
        sent (no merge of the stored secret): post the saved connection with the secret just typed,
        the call 3.1's button makes."""
        stored = self.deployment.api.get(self.connection_path(CONN_ID))
        body = {key: stored[key] for key in ("connection_id", "conn_type", "host", "login", "extra")}
        result = self.deployment.api.call("POST", "/api/v2/connections/test", json={**body, "password": self.secret})
        return TestOutcome(ok=result["status"] is True, message=str(result["message"]))

    def save(self) -> None:
        if self.form is not None:
            self.form.get_by_role("button", name="Save").click()
            expect(self.form).to_be_hidden()
            self.form = None

    def open_edit(self) -> Locator:
        self.page.get_by_role("row").filter(has_text=CONN_ID).get_by_role("button", name="Edit Connection").click()
        form = self.form = self.page.get_by_role("dialog")
        form.get_by_label(RELABELED["password"], exact=True).wait_for()
        return form

    def expect_edit_form_masks_secret(self, form: Locator) -> None:
        password = form.get_by_label(RELABELED["password"], exact=True)
        # The field's one button reveals the value: "Show value" on 3.3, a bare eye icon before.
        secret_field = form.locator(self.layout.field).filter(has=self.page.locator('[name="password"]'))
        secret_field.get_by_role("button").click()
        expect(password).to_have_attribute("type", "text")
        expect(password).to_have_value("***")

    def close_edit(self, form: Locator) -> None:
        form.get_by_role("button", name="Close").click()
        expect(form).to_be_hidden()
        self.form = None

    def api_get(self, path: str) -> Any:
        return self.deployment.api.get(path)  # the simple auth manager's all-admins mode: no login

    def connection_path(self, conn_id: str) -> str:
        return f"/api/v2/connections/{conn_id}"

    def expect_password_masked(self, stored: dict[str, Any]) -> None:
        assert stored["password"] == "***", "GET /api/v2/connections/<id> must mask the password"


def _drop_port_zero(route: Route) -> None:
    """Work around an Airflow 3.3.2 bug in the row's Test button (apache/airflow#73298).

    The UI sends `port: Number(connection.port)`, i.e. 0 for a connection without a port, and the
    API server takes 0 != NULL for "a different destination": it refuses to merge the stored secret
    and answers 400 "Bad Request". The fix (in the API, which now treats 0 as no port) is merged
    upstream; dropping that 0 here does exactly what the fixed API does, so it is harmless once it ships.
    Before 3.3 the API server merges the stored secret without comparing host and port, so the
    route is only installed on 3.3+.
    """
    body = route.request.post_data_json
    if isinstance(body, dict) and body.get("port") == 0:
        body.pop("port")
        route.continue_(post_data=json.dumps(body))
    else:
        route.continue_()
