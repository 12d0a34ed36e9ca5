"""5. Parse-time cost: importing the provider's operator, sensor and hook modules after Airflow's own.

A DAG file pays this on every parse. The baseline is what any DAG file imports anyway: the Task SDK
(`import airflow.sdk`) on Airflow 3, the DAG class on 2.11. It is measured on the default Airflow
and on every other version of the test matrix whose venv exists (`make test` builds them; a full
run builds the missing ones). Each measurement runs in a fresh interpreter; the child also
proves that FastAPI, uvicorn, Starlette and the sandbox were not imported along the way.

The target is measured with a bytecode cache, as deployed (pip writes .pyc files at install, a
DAG processor keeps them). This machine's environment sets PYTHONDONTWRITEBYTECODE=1, which would
compile the provider from source on every import; so the children get their own cache
directory (PYTHONPYCACHEPREFIX, outside the repository), and the cold case is reported beside it.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import Report, Table, Target, at_most, median, ms, run_child, spread

NAME = "parse_time"
TITLE = "5. Parse-time cost of the provider's modules"
PACKAGE = "airflow_provider_simplestore"
SUBPACKAGES = ("operators", "sensors", "hooks")
FORBIDDEN = ("fastapi", "uvicorn", "starlette", f"{PACKAGE}.sandbox")
TARGET_MS = 50.0


def provider_root() -> Path:
    """The provider package's directory, found without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{PACKAGE} is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def provider_modules() -> tuple[list[str], list[str]]:
    """(modules, missing subpackages): the operator, sensor and hook modules, found on disk without importing."""
    root = provider_root()
    names, missing = [], []
    for sub in SUBPACKAGES:
        if not (root / sub / "__init__.py").is_file():
            missing.append(sub)
            continue
        names.append(f"{PACKAGE}.{sub}")
        names += sorted(f"{PACKAGE}.{sub}.{info.name}" for info in pkgutil.iter_modules([str(root / sub)]))
    return names, missing


def measure_imports(modules: list[str]) -> dict[str, Any]:
    """Child side: Airflow's baseline import, then time importing `modules` one after another."""
    import importlib
    import sys
    import time

    try:
        import airflow.sdk  # noqa: F401  (the baseline every DAG file pays anyway)
    except ImportError:  # Airflow 2: no Task SDK
        from airflow import DAG  # noqa: F401

    before = set(sys.modules)
    steps = []
    start = time.perf_counter()
    for name in modules:
        step = time.perf_counter()
        importlib.import_module(name)
        steps.append((name, time.perf_counter() - step))
    total = time.perf_counter() - start
    new = set(sys.modules) - before
    # Only what the provider's modules loaded: on 3.0, `import airflow.sdk` itself loads FastAPI.
    forbidden = sorted(m for m in new if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    third_party = sorted({m.split(".")[0] for m in new} - {PACKAGE, "airflow"} - set(sys.stdlib_module_names))
    return {"total": total, "steps": steps, "new_modules": len(new), "forbidden": forbidden, "third_party": third_party}


def bytecode_env(cache: Path, *, write: bool) -> dict[str, str]:
    """Python's bytecode cache redirected to `cache` (never into the repository)."""
    return {"PYTHONPYCACHEPREFIX": str(cache), "PYTHONDONTWRITEBYTECODE": "" if write else "1"}


def run(quick: bool = False, repeats: int | None = None) -> Report:
    repeats = repeats or (1 if quick else 9)
    cold_repeats = 1 if quick else 3
    modules, missing = provider_modules()
    measure = f"{__name__}:measure_imports"
    # Warm, as deployed: pip compiles installed packages, and a DAG processor reuses the bytecode.
    # Cold: the provider compiled from source at every import (an editable install under
    # PYTHONDONTWRITEBYTECODE=1, as here), its dependencies still cached. Cold runs first, with
    # the provider's bytecode removed from the cache and writing off; then one unmeasured run
    # fills the cache.
    cache = Path(tempfile.gettempdir()) / "simplestore-bench-pycache"
    shutil.rmtree(cache / str(provider_root()).lstrip("/"), ignore_errors=True)
    cold_env = bytecode_env(cache, write=False)
    cold = [run_child(measure, {"modules": modules}, env=cold_env, timeout=300)["total"] for _ in range(cold_repeats)]
    warm_env = bytecode_env(cache, write=True)
    run_child(measure, {"modules": [*modules, "requests"]}, env=warm_env, timeout=300)
    runs = [run_child(measure, {"modules": modules}, env=warm_env, timeout=120) for _ in range(repeats)]
    requests_alone = [run_child(measure, {"modules": ["requests"]}, env=warm_env)["total"] for _ in range(repeats)]
    totals = [r["total"] for r in runs]
    report = Report(
        NAME,
        TITLE,
        f"{len(modules)} modules ({', '.join(SUBPACKAGES)}) imported after `import airflow.sdk`, each run a fresh "
        f"interpreter; warm bytecode cache (as deployed) x{repeats}, cold (no bytecode) x{cold_repeats}",
    )

    # Per module: the extra time it added when imported in this order (its dependencies included).
    per_module = Table(["module (in import order, warm)", "median added", "share"])
    total_median = median(totals)
    for index, name in enumerate(modules):
        added = median([r["steps"][index][1] for r in runs])
        share = f"{added / total_median * 100:.0f}%" if total_median else "-"
        per_module.add(name.removeprefix(PACKAGE + "."), ms(added), share)
    summary = Table(["measure", "value"])
    summary.add("median import time, warm bytecode cache", ms(total_median))
    summary.add("min / max around median", spread(totals))
    summary.add("`import requests` alone, for comparison", ms(median(requests_alone)))
    summary.add("median import time, cold (no bytecode cache)", ms(median(cold)))
    summary.add("modules newly loaded", str(runs[-1]["new_modules"]))
    summary.add("third-party packages newly loaded", ", ".join(runs[-1]["third_party"]) or "none")
    forbidden = sorted({m for r in runs for m in r["forbidden"]})
    summary.add("fastapi / uvicorn / starlette / sandbox loaded", ", ".join(forbidden) or "none")
    report.tables += [("", summary), ("", per_module)]
    report.targets += [
        at_most("import operators+sensors+hooks after airflow.sdk", total_median * 1000, TARGET_MS, " ms"),
        *other_versions(report, modules, warm_env, repeats, build=not quick),
        Target("fastapi, uvicorn, sandbox not imported", "none", ", ".join(forbidden) or "none", not forbidden),
    ]
    if missing:
        found = f"missing: {', '.join(missing)}"
        report.targets.append(Target("subpackages present", ", ".join(SUBPACKAGES), found, False))
    return report


def other_versions(
    report: Report, modules: list[str], env: dict[str, str], repeats: int, *, build: bool
) -> list[Target]:
    """The same warm measurement on each other Airflow of the test matrix, one target per version."""
    from scripts.airflow_venvs import MATRIX, ensure_venv, venv_dir

    table = Table(["Airflow", "python", "median import time, warm", "min / max", "fastapi / uvicorn / sandbox"])
    targets = []
    for target in MATRIX:
        python = venv_dir(target.airflow) / "bin" / "python"
        if build:
            python = ensure_venv(target)
        if not python.exists():
            table.add(target.airflow, "-", "venv not built (make test builds it)", "-", "-")
            continue
        measure = f"{__name__}:measure_imports"
        # An AIRFLOW_HOME of its own: an airflow.cfg written by another Airflow (3.3's xcom_backend,
        # say) does not load in this one.
        with tempfile.TemporaryDirectory(prefix=f"parse-time-airflow-{target.airflow}-") as home:
            version_env = {**env, "AIRFLOW_HOME": home}
            run_child(measure, {"modules": [*modules, "requests"]}, env=version_env, timeout=300, python=str(python))
            runs = [
                run_child(measure, {"modules": modules}, env=version_env, timeout=120, python=str(python))
                for _ in range(repeats)
            ]
        totals = [r["total"] for r in runs]
        forbidden = sorted({m for r in runs for m in r["forbidden"]})
        table.add(
            target.airflow,
            f"{python.parent.parent.name}",
            ms(median(totals)),
            spread(totals),
            ", ".join(forbidden) or "none",
        )
        targets.append(at_most(f"the same on Airflow {target.airflow}", median(totals) * 1000, TARGET_MS, " ms"))
        if forbidden:
            targets.append(Target(f"sandbox not imported on {target.airflow}", "none", ", ".join(forbidden), False))
    report.tables.append(("other Airflow versions (each its own venv)", table))
    return targets
