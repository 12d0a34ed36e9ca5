"""The walk of the connection-form browser test, and the checks every Airflow UI must pass.

One walk for every supported Airflow: open the add form and choose SimpleStore (1); check the form
against get_provider_info() (2); fill it for a running sandbox and Test it (3); a wrong secret and
Test (4); the right secret back, saved, then look for it in the list, the edit form, the REST API
and the server log (5). `ConnectionUI.walk()` runs those steps and holds every check; a subclass
only says how its UI does each step: `connection_ui_react.py` (the 3.x API server's React UI) and
`connection_ui_flask.py` (2.11's Flask webserver). Every step leaves a screenshot in
test-output/e2e/connection-ui-<airflow version>/.
"""

from __future__ import annotations

import json
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from playwright.sync_api import expect

from airflow_provider_simplestore.compat import AIRFLOW_VERSION
from airflow_provider_simplestore.get_provider_info import connection_type_info

from .harness import OUTPUT_DIR, AirflowHome, Deployment, Redactor

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

CONN_ID = "simplestore_ui"
CONN_TYPE = connection_type_info()
HOOK_NAME: str = CONN_TYPE["hook-name"]
CONN_TYPE_NAME: str = CONN_TYPE["connection-type"]
RELABELED: dict[str, str] = CONN_TYPE["ui-field-behaviour"]["relabeling"]  # host/login/password -> label
HIDDEN: list[str] = CONN_TYPE["ui-field-behaviour"]["hidden-fields"]
EXTRA_FIELDS: dict[str, dict[str, Any]] = CONN_TYPE["conn-fields"]
# Standard fields the UI would show under these names if the provider did not hide them.
HIDDEN_LABELS = {"port": "Port", "schema": "Schema"}

SECRET = f"ui-secret-{secrets.token_hex(12)}"
WRONG_SECRET = f"ui-wrong-{secrets.token_hex(12)}"
NAME = f"connection-ui-{AIRFLOW_VERSION}"  # the AirflowHome, its server log and the screenshots
SHOTS = OUTPUT_DIR / NAME


@dataclass(frozen=True)
class FormLayout:
    """Where one UI puts the parts of a form field (CSS selectors)."""

    extra_prefix: str  # the extra `key` is the input named extra_prefix + key
    field: str  # the element around one field's label, input and description
    label: str  # the label inside `field`
    description: str  # the description (help text) inside `field`


@dataclass(frozen=True)
class TestOutcome:
    ok: bool
    message: str  # the text the user is shown


class ConnectionUI(ABC):
    """One Airflow UI's way of doing each step of the walk; the walk and its checks are shared."""

    layout: ClassVar[FormLayout]
    components: ClassVar[tuple[str, ...]]  # the Deployment components that serve this UI
    env: ClassVar[dict[str, str]] = {}  # further settings of its AirflowHome

    def __init__(self, page: Page, deployment: Deployment) -> None:
        self.page = page
        self.deployment = deployment
        self.url = deployment.home.api_url

    @classmethod  # noqa: B027 - most UIs need nothing more
    def prepare(cls, home: AirflowHome) -> None:
        """Set up the migrated home before the server starts (users, for instance)."""

    # ---- the steps, per UI ---------------------------------------------------------------------

    @abstractmethod
    def open_add_form(self) -> Locator:
        """From the home page: Admin -> Connections -> add, type SimpleStore; the form."""

    def show_extra_fields(self, form: Locator) -> None:  # noqa: B027 - a UI that shows them all at once
        """Bring the extra fields into view."""

    @abstractmethod
    def fill(self, form: Locator, *, host: str, login: str, secret: str, auth_url: str) -> None:
        """Fill the connection id, the standard fields and the token URL of the add form."""

    @abstractmethod
    def set_secret(self, secret: str) -> None:
        """Put `secret` in the connection's Client Secret field (opening its form if need be)."""

    @abstractmethod
    def press_test(self) -> TestOutcome:
        """Press Test; the result the UI shows."""

    @abstractmethod
    def save(self) -> None:
        """Save the open form (if one is open) and land on the connection list."""

    @abstractmethod
    def open_edit(self) -> Locator:
        """The edit form of the saved connection."""

    @abstractmethod
    def expect_edit_form_masks_secret(self, form: Locator) -> None:
        """The secret field of the edit form holds no secret, not even when revealed."""

    @abstractmethod
    def close_edit(self, form: Locator) -> None:
        """Leave the edit form without saving."""

    @abstractmethod
    def api_get(self, path: str) -> Any:
        """GET a path of the REST API, authenticated as the UI is; the decoded JSON."""

    @abstractmethod
    def connection_path(self, conn_id: str) -> str:
        """The REST API path of one connection."""

    @abstractmethod
    def expect_password_masked(self, stored: dict[str, Any]) -> None:
        """The REST API's view of the connection hides the password."""

    def check_saved_connection(self, redactor: Redactor) -> None:  # noqa: B027 - the UI's Test already did
        """Extra proof that the saved connection works, for UIs whose Test ran on the unsaved form."""

    # ---- the walk ------------------------------------------------------------------------------

    def walk(self, sb: Any, redactor: Redactor) -> None:
        with self.diagnosed(redactor):
            # 1. Admin -> Connections -> Add, type SimpleStore.
            form = self.open_add_form()
            screenshot(self.page, "1-add-simplestore")

            # 2. The standard fields under our labels, no schema or port; every extra with label and default.
            expect_standard_fields(form)
            screenshot(self.page, "2a-standard-fields")
            self.show_extra_fields(form)
            expect_extra_fields(form, self.layout)
            screenshot(self.page, "2b-extra-fields")

            # 3. Fill it for the sandbox and Test: success.
            self.fill(form, host=sb.url, login=sb.client_id, secret=SECRET, auth_url=sb.token_url)
            screenshot(self.page, "3a-filled")
            expect_success(self.press_test(), sb)
            screenshot(self.page, "3b-test-success")

            # 4. A wrong secret: the failure names the rejected client id/secret, and shows no secret.
            self.set_secret(WRONG_SECRET)
            expect_rejected(self.press_test())
            screenshot(self.page, "4-test-wrong-secret")

            # 5. The right secret back, tested, saved; then it is masked wherever the UI or API shows it.
            self.set_secret(SECRET)
            expect_success(self.press_test(), sb)
            self.save()
            expect(self.page.get_by_role("row").filter(has_text=CONN_ID)).to_contain_text(sb.url)
            screenshot(self.page, "5a-saved-list")
            assert_no_secret(self.page.content(), "the connection list page")

            form = self.open_edit()
            self.expect_edit_form_masks_secret(form)
            screenshot(self.page, "5b-edit-secret-revealed-is-masked")
            assert_no_secret(self.page.content(), "the edit form")
            self.close_edit(form)

            stored = self.api_get(self.connection_path(CONN_ID))
            assert_no_secret(json.dumps(stored), f"GET {self.connection_path(CONN_ID)}")
            self.expect_password_masked(stored)
            assert stored["host"] == sb.url and stored["login"] == sb.client_id, redactor(str(stored))
            extras = json.loads(stored["extra"])
            assert extras["auth_url"] == sb.token_url, redactor(str(extras))
            unknown = set(extras) - set(EXTRA_FIELDS)
            assert not unknown, f"extras stored under keys the hook does not read: {sorted(unknown)}"
            connections = self.connection_path("").rstrip("/")
            assert_no_secret(json.dumps(self.api_get(connections)), f"GET {connections}")
            self.check_saved_connection(redactor)
            log = self.deployment.processes[0]
            assert_no_secret(log.log_path.read_text(errors="replace"), f"the {log.name} log")

    @contextmanager
    def diagnosed(self, redactor: Redactor) -> Iterator[None]:
        """On failure: a screenshot of the page, and the server's log tail, in the error (redacted)."""
        try:
            yield
        except Exception as exc:
            shot = screenshot(self.page, "failure")
            raise AssertionError(
                f"{redactor(f'{type(exc).__name__}: {exc}')}\nscreenshot: {shot}\n{self.deployment.diagnostics(60)}"
            ) from None


# ---- the shared checks -------------------------------------------------------------------------


def expect_standard_fields(form: Locator) -> None:
    """Host, login and password under our labels (the secret as a password input); no schema or port."""
    for field, label in RELABELED.items():
        box = form.get_by_label(label, exact=True)
        expect(box).to_be_visible()
        expect(box).to_have_attribute("name", field)
    expect(form.get_by_label(RELABELED["password"], exact=True)).to_have_attribute("type", "password")
    for field in HIDDEN:
        expect(form.locator(f'[name="{field}"]')).to_be_hidden()  # absent, or there but not shown
    shown_labels = {t.strip() for t in form.locator("label:visible").all_inner_texts()}
    assert not shown_labels & {HIDDEN_LABELS[f] for f in HIDDEN}, shown_labels


def expect_extra_fields(form: Locator, layout: FormLayout) -> None:
    """Exactly our extras, each with its label, description and default from get_provider_info()."""
    inputs = form.locator(f'[name^="{layout.extra_prefix}"]')
    expect(inputs).to_have_count(len(EXTRA_FIELDS))
    names = [inputs.nth(i).get_attribute("name") or "" for i in range(inputs.count())]
    assert {n.removeprefix(layout.extra_prefix) for n in names} == set(EXTRA_FIELDS), names
    for key, spec in EXTRA_FIELDS.items():
        selector = f'[name="{layout.extra_prefix}{key}"]'
        element = form.locator(selector)
        expect(element).to_be_visible()
        # `has` is matched inside each field, so it takes a page-level locator.
        field = form.locator(layout.field).filter(has=form.page.locator(selector))
        expect(field.locator(layout.label)).to_have_text(spec["label"])
        expect(field.locator(layout.description)).to_have_text(spec["description"])
        default = spec["schema"].get("default")
        types = spec["schema"]["type"]
        if "boolean" in (types if isinstance(types, list) else [types]):
            if default:
                expect(element).to_be_checked()
            else:
                expect(element).not_to_be_checked()
        else:
            # Every UI shows a number as its decimal text: 30 as "30" (wtforms text fields included).
            expect(element).to_have_value("" if default is None else str(default))


def expect_success(outcome: TestOutcome, sb: Any) -> None:
    assert_no_secret(outcome.message, "the success message")
    assert outcome.ok, f"the test of a good connection failed: {outcome.message!r}"
    assert sb.url in outcome.message, f"the success message does not name the API URL: {outcome.message!r}"


def expect_rejected(outcome: TestOutcome) -> None:
    assert_no_secret(outcome.message, "the failure message")
    assert not outcome.ok, f"the test of a wrong secret succeeded: {outcome.message!r}"
    message = outcome.message
    assert re.search(r"reject", message, re.I) and re.search(r"client (id|secret)", message, re.I), (
        f"the failure message does not say the client id/secret was rejected: {message!r}"
    )


def assert_no_secret(text: str, where: str) -> None:
    # Never let pytest print the text: it would show the secret it found.
    for name, value in (("the client secret", SECRET), ("the wrong client secret", WRONG_SECRET)):
        if value in text:
            raise AssertionError(f"{name} appears in clear in {where}")


def screenshot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"step-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
