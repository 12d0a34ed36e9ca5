"""Sensors and triggers stand on hooks and utils only: nothing of operators/ or transfers/."""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_provider_simplestore

PACKAGE = Path(airflow_provider_simplestore.__file__).parent
UPPER = ("airflow_provider_simplestore.operators", "airflow_provider_simplestore.transfers")


def test_sensors_and_triggers_import_nothing_from_operators_or_transfers() -> None:
    offenders = []
    for path in sorted([*PACKAGE.glob("sensors/*.py"), *PACKAGE.glob("triggers/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [
                f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', '?')} {name}"
                for name in names
                if name.startswith(UPPER)
            ]
    assert offenders == []
