"""The connection-form walk on Airflow 2.11's Flask webserver (`airflow webserver`).

2.11 needs a login: an Admin user is created in the AirflowHome before the webserver starts. Its form
is one page, standard and extra fields together (the extras are the hook's wtforms fields, named
`extra__simplestore__<key>`, stored in `extra` under the plain key); the hidden standard fields stay
in the page, hidden. Its Test button sits in the form and tests what is typed, unsaved, through
`POST /api/v1/connections/test`; the page shows the message in an alert box (the success style for
a failed test too, as 2.11 does), so the outcome is read from that call's `status`. The edit form
never carries the stored secret: its secret field is rendered empty.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import TYPE_CHECKING, Any, ClassVar

from playwright.sync_api import expect

from .connection_ui import (
    CONN_ID,
    CONN_TYPE_NAME,
    HOOK_NAME,
    RELABELED,
    ConnectionUI,
    FormLayout,
    TestOutcome,
    assert_no_secret,
)
from .harness import AirflowHome, Redactor

if TYPE_CHECKING:
    from playwright.sync_api import Locator

ADMIN_USER = "admin"
ADMIN_PASSWORD = secrets.token_hex(12)


class FlaskConnectionUI(ConnectionUI):
    layout = FormLayout(
        extra_prefix=f"extra__{CONN_TYPE_NAME}__",
        field="tr",
        label="label",
        description="span.help-block",
    )
    components: ClassVar[tuple[str, ...]] = ("webserver",)
    # One gunicorn worker is plenty for one browser, on a 2-core machine.
    env: ClassVar[dict[str, str]] = {"AIRFLOW__WEBSERVER__WORKERS": "1"}

    @classmethod
    def prepare(cls, home: AirflowHome) -> None:
        home.cli(
            "users",
            "create",
            "--username",
            ADMIN_USER,
            "--password",
            ADMIN_PASSWORD,
            "--role",
            "Admin",
            "--email",
            "admin@example.com",
            "--firstname",
            "Test",
            "--lastname",
            "Admin",
        )

    def open_add_form(self) -> Locator:
        page = self.page
        page.goto(f"{self.url}/")
        expect(page).to_have_url(re.compile(r"/login/"))
        page.get_by_label("Username").fill(ADMIN_USER)
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.get_by_role("link", name="Admin", exact=True).click()
        page.get_by_role("link", name="Connections", exact=True).click()
        expect(page).to_have_url(re.compile(r"/connection/list/"))
        page.locator('a[href^="/connection/add"]').click()  # the "+" (its tooltip takes its title)
        form = page.locator("form#model_form")
        # Connection type is a select2 box: open it, search, pick.
        form.locator("#select2-conn_type-container").click()
        page.locator(".select2-search__field").fill(HOOK_NAME)
        page.locator(".select2-results__option").filter(has_text=re.compile(f"^{HOOK_NAME}$")).click()
        expect(form.locator("#conn_type")).to_have_value(CONN_TYPE_NAME)
        return form

    def fill(self, form: Locator, *, host: str, login: str, secret: str, auth_url: str) -> None:
        form.get_by_label("Connection Id").fill(CONN_ID)
        form.get_by_label(RELABELED["host"], exact=True).fill(host)
        form.get_by_label(RELABELED["login"], exact=True).fill(login)
        form.get_by_label(RELABELED["password"], exact=True).fill(secret)
        form.locator(f'[name="{self.layout.extra_prefix}auth_url"]').fill(auth_url)

    def set_secret(self, secret: str) -> None:
        self.page.get_by_label(RELABELED["password"], exact=True).fill(secret)

    def press_test(self) -> TestOutcome:
        page = self.page
        with page.expect_response(lambda r: r.url.endswith("/api/v1/connections/test")) as answer:
            page.get_by_role("button", name="Test").click()
        response = answer.value
        assert response.ok, f"POST /api/v1/connections/test -> {response.status} {response.status_text}"
        result = response.json()
        alert = page.locator(".container .row .alert").first
        expect(alert).to_be_visible()
        expect(alert).to_have_text(str(result["message"]))
        return TestOutcome(ok=result["status"] is True, message=alert.inner_text())

    def save(self) -> None:
        self.page.get_by_role("button", name="Save").click()
        expect(self.page).to_have_url(re.compile(r"/connection/list/"))

    def open_edit(self) -> Locator:
        row = self.page.get_by_role("row").filter(has_text=CONN_ID)
        row.locator('a[href*="/connection/edit/"]').click()
        form = self.page.locator("form#model_form")
        expect(form.get_by_label(RELABELED["host"], exact=True)).to_have_value(re.compile(r"\S"))
        return form

    def expect_edit_form_masks_secret(self, form: Locator) -> None:
        password = form.get_by_label(RELABELED["password"], exact=True)
        expect(password).to_have_attribute("type", "password")
        expect(password).to_have_value("")  # 2.11 never sends the stored secret to the edit form

    def close_edit(self, form: Locator) -> None:
        self.page.goto(f"{self.url}/connection/list/")

    def api_get(self, path: str) -> Any:
        """Fetched by the page itself, with its login session (2.11's REST API takes it).

        Not from another client: the one sync gunicorn worker can sit on an idle connection that
        Chromium opened ahead of need, and a second client would wait for it in vain.
        """
        status, body = self.page.evaluate(
            "async path => { const r = await fetch(path, {headers: {Accept: 'application/json'}});"
            " return [r.status, await r.text()]; }",
            path,
        )
        assert status == 200, f"GET {path} -> {status}"
        return json.loads(body)

    def connection_path(self, conn_id: str) -> str:
        return f"/api/v1/connections/{conn_id}"

    def expect_password_masked(self, stored: dict[str, Any]) -> None:
        assert "password" not in stored, "GET /api/v1/connections/<id> must not return the password"

    def check_saved_connection(self, redactor: Redactor) -> None:
        """The Test button tested the unsaved form: test what was saved too, with `airflow connections test`."""
        output = self.deployment.home.cli("connections", "test", CONN_ID)
        text = f"{output.stdout}\n{output.stderr}"
        assert_no_secret(text, "`airflow connections test`")
        assert "Connection success!" in output.stdout, redactor(output.stdout[-2000:])
