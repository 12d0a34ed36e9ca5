"""The docs stay true to the tree: every module is in the architecture map, every link resolves.

- every ``.py`` of the package is named in ``docs/architecture.md`` by its path relative to the
  package (``transfers/simplestore_to_sql.py``, ``sandbox/routes/cart.py``); a package's
  ``__init__.py`` may be named by its folder (``hooks/``) instead;
- ``docs/index.md`` links every page under ``docs/``, and every page it links exists;
- ``docs/connections.md`` has every form field and extra, with the label and default that
  ``get_provider_info.connection_type_info()`` declares;
- each operator, transfer, sensor, trigger and hook page lists exactly the class's own constructor
  parameters, and marks as templated exactly its ``template_fields``;
- every relative link in ``docs/**.md``, ``README.md`` and ``CHANGELOG.md`` points at a file or
  folder that exists, and its ``#anchor``, if any, at a heading of that page (GitHub's slugs; links
  inside code blocks and inline code are not links).
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

from airflow_provider_simplestore.get_provider_info import connection_type_info
from tests.support import REPO_ROOT

PACKAGE = REPO_ROOT / "airflow_provider_simplestore"
DOCS = REPO_ROOT / "docs"
ARCHITECTURE = DOCS / "architecture.md"
INDEX = DOCS / "index.md"
LINKED_PAGES = sorted([*DOCS.glob("*.md"), *DOCS.glob("*/*.md"), REPO_ROOT / "README.md", REPO_ROOT / "CHANGELOG.md"])

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")  # https:, mailto:, //host
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def package_modules() -> list[str]:
    return sorted(path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py"))


def names_module(text: str, module: str) -> bool:
    """Whether `text` names `module` as a whole path: `token.py` is not named by `hooks/token.py`."""
    candidates = [module]
    if module.endswith("/__init__.py"):
        candidates.append(module.removesuffix("__init__.py"))  # the folder: `hooks/`
    for candidate in candidates:
        # At the start of a path: not inside a longer one, except after the package's own name.
        pattern = (
            r"(?:(?<![\w./-])|(?<=airflow_provider_simplestore/))"
            + re.escape(candidate)
            + (r"(?![\w-])" if candidate.endswith("/") else r"(?![\w/-])")
        )
        if re.search(pattern, text):
            return True
    return False


def link_targets(page: Path) -> list[tuple[str, str]]:
    """(path, anchor) of each link of a markdown page to this repository; path "" is the page itself."""
    text = _INLINE_CODE.sub("", _FENCE.sub("", page.read_text(encoding="utf-8")))
    targets = [*_INLINE_LINK.findall(text), *_REFERENCE_LINK.findall(text)]
    return [(path, anchor) for path, _, anchor in (t.partition("#") for t in targets if not _EXTERNAL.match(t))]


def relative_links(page: Path) -> list[str]:
    """The paths a markdown page links to in this repository (anchors dropped)."""
    return [path for path, _ in link_targets(page) if path]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(heading) for heading in _HEADING.findall(text)}


def test_the_package_has_modules_to_check():
    modules = package_modules()
    assert "__init__.py" in modules and "hooks/simplestore.py" in modules, modules


@pytest.mark.parametrize("module", package_modules())
def test_every_module_is_in_the_architecture_map(module):
    assert names_module(ARCHITECTURE.read_text(encoding="utf-8"), module), (
        f"airflow_provider_simplestore/{module} is not named in docs/architecture.md: add it to the module map "
        "with one line saying what it does"
    )


def test_names_module_wants_the_whole_path():
    text = "  hooks/simplestore.py  the hook\n  airflow_provider_simplestore/retry.py\n  sandbox/  the local platform"
    assert names_module(text, "hooks/simplestore.py")
    assert names_module(text, "retry.py")
    assert names_module(text, "sandbox/__init__.py")
    assert not names_module(text, "simplestore.py")  # only inside hooks/simplestore.py
    assert not names_module(text, "sandbox/app.py")  # a folder does not name its modules
    assert not names_module(text, "hooks/__init__.py")


def test_index_links_every_page_and_every_linked_page_exists():
    linked = {(INDEX.parent / path).resolve() for path in relative_links(INDEX)}
    pages = {page.resolve() for page in [*DOCS.glob("*.md"), *DOCS.glob("*/*.md")] if page != INDEX}
    unlinked = sorted(str(page.relative_to(REPO_ROOT)) for page in pages - linked)
    assert not unlinked, f"docs/index.md does not link {unlinked}: add them to its page list"
    missing = sorted(str(path) for path in linked if not path.exists())
    assert not missing, f"docs/index.md links pages that do not exist: {missing}"


def table_rows(page: Path, section: str | None = None) -> dict[str, list[str]]:
    """Rows of the page's markdown tables (of one `## section`, if given) whose first cell is one code
    span: that name -> the other cells."""
    text = page.read_text(encoding="utf-8")
    if section is not None:
        text = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(r"`[^`]+`", cells[0]):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_the_connection_page_has_every_field_with_its_label_and_default():
    info = connection_type_info()
    rows = table_rows(DOCS / "connections.md")
    for field, label in info["ui-field-behaviour"]["relabeling"].items():
        assert rows.get(field, [None])[0] == label, f"docs/connections.md: field {field!r} should be labelled {label!r}"
    for key, spec in info["conn-fields"].items():
        assert key in rows, f"docs/connections.md has no row for the extra {key!r}"
        label, _, default = rows[key]
        assert label == spec["label"], f"docs/connections.md: extra {key!r} is labelled {spec['label']!r} in the form"
        wanted = spec["schema"].get("default")
        shown = default.split(" ")[0].strip("`")
        if wanted is None:
            assert shown == "none", f"docs/connections.md: extra {key!r} has no default, the page says {default!r}"
        else:
            expected = wanted if isinstance(wanted, str) else json.dumps(wanted)
            assert shown == expected, f"docs/connections.md: extra {key!r} defaults to {expected}, not {default!r}"


CLASS_PAGES = [  # page, module, class, the section with its parameter table
    ("operators/simplestore.md", "operators.simplestore", "SimpleStoreOperator", "Parameters"),
    ("operators/import.md", "operators.importer", "SimpleStoreImportOperator", "Parameters"),
    (
        "transfers/simplestore_to_storage.md",
        "transfers.simplestore_to_storage",
        "SimpleStoreToObjectStorageOperator",
        "Parameters",
    ),
    ("transfers/simplestore_to_sql.md", "transfers.simplestore_to_sql", "SimpleStoreToSqlOperator", "Parameters"),
    ("sensors.md", "sensors.orders", "SimpleStoreOrdersSensor", "Parameters"),
    ("triggers.md", "triggers.orders", "SimpleStoreOrdersTrigger", "Parameters"),
    ("hooks.md", "hooks.simplestore", "SimpleStoreHook", "Constructor"),
    ("hooks.md", "hooks.simplestore", "SimpleStoreAsyncHook", "Constructor"),
]


@pytest.mark.parametrize(("page", "module", "name", "section"), CLASS_PAGES, ids=[c[2] for c in CLASS_PAGES])
def test_a_class_page_lists_its_parameters_and_templated_fields(page, module, name, section):
    cls = getattr(importlib.import_module(f"airflow_provider_simplestore.{module}"), name)
    own = [
        p.name
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    rows = table_rows(DOCS / page, section)
    assert sorted(rows) == sorted(own), f"docs/{page} ({section}) lists {sorted(rows)}; {name} takes {sorted(own)}"
    text = (DOCS / page).read_text(encoding="utf-8").split(f"\n## {section}\n", 1)[1]
    header = next(line for line in text.splitlines() if line.startswith("|"))
    if "| Templated |" in header:
        templated = sorted(param for param, cells in rows.items() if cells[0].startswith("yes"))
        assert templated == sorted(cls.template_fields), (
            f"docs/{page} marks {templated} as templated; {name}.template_fields is {sorted(cls.template_fields)}"
        )


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda page: str(page.relative_to(REPO_ROOT)))
def test_every_relative_link_resolves(page):
    assert page.exists(), f"{page.relative_to(REPO_ROOT)} is missing"
    broken = [path for path in relative_links(page) if not (page.parent / path).exists()]
    assert not broken, f"{page.relative_to(REPO_ROOT)} links to files that do not exist: {broken}"
    no_heading = [
        f"{path}#{anchor}"
        for path, anchor in link_targets(page)
        if anchor and (target := page.parent / path if path else page).suffix == ".md" and anchor not in anchors(target)
    ]
    assert not no_heading, f"{page.relative_to(REPO_ROOT)} links to headings that do not exist: {no_heading}"


def test_slug_is_githubs():
    assert slug("Sandbox contract (`airflow_provider_simplestore.sandbox`)") == (
        "sandbox-contract-airflow_provider_simplestoresandbox"
    )
    assert slug("Testing the connection") == "testing-the-connection"
    assert slug("Export (SimpleStore to storage)") == "export-simplestore-to-storage"


def test_relative_links_skip_code_and_external_addresses(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "[a](a.md) [b](sub/b.md#part) ![img](img.png) [web](https://x.io/y.md) [mail](mailto:a@b.c) [top](#top)\n"
        "`[not](code.md)`\n```python\nx = d[k](y.md)\n```\n[ref]: ref.md\n",
        encoding="utf-8",
    )
    assert sorted(relative_links(page)) == ["a.md", "img.png", "ref.md", "sub/b.md"]
    assert ("sub/b.md", "part") in link_targets(page) and ("", "top") in link_targets(page)


def test_the_filters_table_lists_every_filter_of_every_resource():
    """The export's page lists every resource's filters (the transfers, the sensor, the trigger and the
    hook share them), with the kind of value and the query parameter, as `resources.RESOURCES` has them."""
    from airflow_provider_simplestore.client.resources import RESOURCES

    page = DOCS / "transfers" / "simplestore_to_storage.md"
    section = page.read_text(encoding="utf-8").split("\n## Filters\n", 1)[1].split("\n## ", 1)[0]
    rows = {
        tuple(cell.strip().strip("`") for cell in line.strip().strip("|").split("|"))
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| Resource")
    }
    expected = {
        (spec.name, name, spec.kind(name), query) for spec in RESOURCES.values() for name, query in spec.filters.items()
    }
    assert rows == expected, (
        f"docs/transfers/simplestore_to_storage.md#filters: missing {sorted(expected - rows)}, "
        f"not in RESOURCES {sorted(rows - expected)}"
    )
