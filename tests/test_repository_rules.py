"""House rules that keep the product safe, checked on the source itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "dashboard",
    "compositions",
    "analytics",
    "drills",
    "surveys",
    "sql",
    "bosai",
    "importers",
    "benchmarks",
    "cityos",
    "reports",
    "deploy",
)


def sources(*folders: str):
    for folder in folders:
        yield from (ROOT / folder).rglob("*.py")


def test_no_page_folder_named_pages():
    """A `pages/` folder next to the entry point runs pages directly and skips the login gate."""
    found = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("pages")
        if p.is_dir() and ".venv" not in p.parts
    ]
    assert found == []


def unsafe_html_calls(path: Path) -> list[str]:
    """Calls in ``path`` with ``unsafe_allow_html=True`` whose one argument is not a string
    literal nor a module-level constant assigned a string literal (read from the syntax tree)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.isupper()
    }
    found = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        unsafe = next((k for k in call.keywords if k.arg == "unsafe_allow_html"), None)
        if unsafe is None or (isinstance(unsafe.value, ast.Constant) and not unsafe.value.value):
            continue
        body = call.args[0] if len(call.args) == 1 else None
        literal = isinstance(body, ast.Constant) and isinstance(body.value, str)
        constant = isinstance(body, ast.Name) and body.id in constants
        if not (literal or constant):
            found.append(f"{path.name}:{call.lineno}")
    return found


def test_unsafe_html_only_for_static_markup():
    """``unsafe_allow_html=True`` only with static markup — never an f-string, a call or
    anything built from data."""
    offenders = [hit for path in sources(*PACKAGES) for hit in unsafe_html_calls(path)]
    assert offenders == []


def test_the_unsafe_html_scan_finds_data_in_markup(tmp_path):
    sample = tmp_path / "page.py"
    sample.write_text(
        'CSS = "<style>p {}</style>"\n'
        "NAME = name_from_data()\n"
        "st.markdown(CSS, unsafe_allow_html=True)\n"
        "st.markdown('<hr>', unsafe_allow_html=True)\n"
        "st.markdown(f'<b>{name}</b>', unsafe_allow_html=True)\n"
        "st.markdown(NAME, unsafe_allow_html=True)\n"
        "st.html(CSS + name, unsafe_allow_html=True)\n"
        "def page():\n    LOCAL = 'x'\n    st.markdown(LOCAL, unsafe_allow_html=True)\n",
        encoding="utf-8",
    )
    assert unsafe_html_calls(sample) == ["page.py:5", "page.py:6", "page.py:7", "page.py:10"]


def test_no_sql_above_the_data_layer():
    pattern = re.compile(r"""["'](?:\s*)(SELECT|INSERT|UPDATE|DELETE)\s+[\w*(]""", re.IGNORECASE)
    offenders = [
        str(p.relative_to(ROOT))
        for p in sources(
            "dashboard", "analytics", "compositions", "surveys", "drills", "importers", "reports"
        )
        if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports by absolute name (at the top or inside a function)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_parsers_and_analytics_do_not_load_the_data_layer():
    """analytics/, importers/ and surveys/ take the vocabulary and Japan's bounds from the
    bosai leaves and leave storing to sql/: importing them never loads the ORM models
    (docs/ARCHITECTURE.md, Layers)."""
    offenders = [
        f"{p.relative_to(ROOT)}: {name}"
        for p in sources("analytics", "importers", "surveys")
        for name in sorted(imported_modules(p))
        if name == "sql" or name.startswith("sql.")
    ]
    assert offenders == []


def test_compositions_run_without_streamlit():
    """compositions/ is read by the pages, ``bosai analyze`` and the reports alike: it never
    loads Streamlit or the dashboard (docs/ARCHITECTURE.md, Layers)."""
    offenders = [
        f"{p.relative_to(ROOT)}: {name}"
        for p in sources("compositions")
        for name in sorted(imported_modules(p))
        if name.split(".")[0] in ("streamlit", "dashboard", "reports")
    ]
    assert offenders == []


def test_pages_do_not_touch_the_database_directly():
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "dashboard" / "views").glob("*.py")
        if re.search(
            r"\bimport sqlalchemy\b|\bsa\.(select|insert|update|delete|text)\(",
            p.read_text(encoding="utf-8"),
        )
    ]
    assert offenders == []


def test_nothing_outside_the_dashboard_imports_it():
    """deploy/ runs the dashboard as a program; it never imports it."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in sources("deploy")
        if re.search(r"^\s*(from|import) dashboard", p.read_text(encoding="utf-8"), re.M)
    ]
    assert offenders == []


def test_no_secrets_in_the_repository():
    assert (
        not (ROOT / ".streamlit" / "secrets.toml").exists()
        or ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text()
    )
    pattern = re.compile(r"(client_secret|cookie_secret)\s*=\s*[\"'][^\"'<]{12,}[\"']")
    offenders = [
        str(p.relative_to(ROOT))
        for p in sources(*PACKAGES)
        if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
