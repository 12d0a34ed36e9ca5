"""The `simplestore` connection form for the UIs that build it from the hook.

Airflow 3.2 and later read the form from ``get_provider_info()`` (``conn-fields`` and
``ui-field-behaviour``). Airflow 2.11's Flask webserver and the 3.0-3.1 API server call the hook's
``get_connection_form_widgets()`` and ``get_ui_field_behaviour()`` instead. Both are built here
from the same declaration (``get_provider_info.connection_type_info()``, whose extras come from the
table in ``connection_fields``), so every UI shows the same labels, help texts and defaults.

wtforms, flask_appbuilder and flask_babel are imported inside the functions: on 2.11 they come
with the webserver; on 3.0-3.1 the API server substitutes stand-ins for them while it calls these.
"""

from __future__ import annotations

import math
from typing import Any

from airflow_provider_simplestore.get_provider_info import connection_type_info


def _json_type(schema: dict[str, Any]) -> str:
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return next(t for t in types if t != "null")


def connection_form_widgets() -> dict[str, Any]:
    """wtforms fields of the extras, keyed by extra name (stored in `extra` under that name)."""
    from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import BooleanField, IntegerField, StringField
    from wtforms.validators import NumberRange, Optional

    widgets: dict[str, Any] = {}
    for key, spec in connection_type_info()["conn-fields"].items():
        schema = spec["schema"]
        kind = _json_type(schema)
        label = lazy_gettext(spec["label"])
        default = schema.get("default")
        if kind == "boolean":
            widgets[key] = BooleanField(label, description=spec["description"], default=default)
            continue
        validators: list[Any] = [Optional()]
        # Airflow accepts only String/Integer/Boolean/Password fields here: a decimal goes as text,
        # which the hook parses ("30" and 30 are the same timeout). NumberRange compares the text
        # itself to the bound (a TypeError: 2.11's Save answered 500), so text checks as a number.
        if "minimum" in schema or "maximum" in schema:
            low, high = schema.get("minimum"), schema.get("maximum")
            validators.append(NumberRange(min=low, max=high) if kind == "integer" else _decimal_within(low, high))
        field = IntegerField if kind == "integer" else StringField
        if kind != "integer" and default is not None:
            default = str(default)
        widgets[key] = field(
            label, validators=validators, widget=BS3TextFieldWidget(), description=spec["description"], default=default
        )
    return widgets


def _decimal_within(minimum: float | None, maximum: float | None) -> Any:
    """A wtforms validator of a decimal typed as text: a number, within the bounds given."""
    if minimum is not None and maximum is not None:
        bounds = f"between {minimum:g} and {maximum:g}"
    else:
        bounds = f"at least {minimum:g}" if minimum is not None else f"at most {maximum:g}"

    def check(form: Any, field: Any) -> None:
        from wtforms.validators import ValidationError

        try:
            number = float(field.data)
        except (TypeError, ValueError):
            raise ValidationError("Not a valid number.") from None
        too_low = minimum is not None and number < minimum
        if not math.isfinite(number) or too_low or (maximum is not None and number > maximum):
            raise ValidationError(f"Number must be {bounds}.")

    return check


def ui_field_behaviour() -> dict[str, Any]:
    """Hidden, relabelled and placeholder standard fields, in the hook methods' snake_case form."""
    behaviour = connection_type_info()["ui-field-behaviour"]
    return {key.replace("-", "_"): value for key, value in behaviour.items()}
