"""House rules that keep the product safe, checked on the source itself."""

from __future__ import annotations

import ast
import dataclasses
import functools
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


@functools.cache
def syntax_tree(path: Path) -> ast.Module:
    """The parsed source of ``path``, once per test session (the import rules read it often)."""
    return ast.parse(path.read_text(encoding="utf-8"))


def unsafe_html_calls(path: Path) -> list[str]:
    """Calls in ``path`` with ``unsafe_allow_html=True`` whose one argument is not a string
    literal nor a module-level constant assigned a string literal (read from the syntax tree)."""
    tree = syntax_tree(path)
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
    for node in ast.walk(syntax_tree(path)):
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
    """The pictures the reports and the CLI share live in compositions/; deploy/ runs the
    dashboard as a program. Only the benchmarks, which measure the dashboard, import it."""
    offenders = [
        f"{p.relative_to(ROOT)}: {name}"
        for package in PACKAGES
        if package not in ("dashboard", "benchmarks")
        for p in sources(package)
        for name in sorted(imported_modules(p))
        if name.split(".")[0] == "dashboard"
    ]
    assert offenders == []


@dataclasses.dataclass
class LayerRule:
    """What one package may import, as its row of the layer table says."""

    #: Packages of the table it may import (None: every one).
    packages: set[str] | None
    #: The ``bosai`` modules it may import (None: all of ``bosai``).
    bosai: set[str] | None
    #: Packages named after "never".
    never: set[str]
    #: Sub-packages with packages of their own ("`sql.imports` also `importers` …").
    also: dict[str, set[str]]


def table_cells(text: str) -> list[list[str]]:
    """The rows of the table under ``## Layers`` as lists of cells."""
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]


def layer_rules(text: str) -> dict[str, LayerRule]:
    """Each package's import rule, read from the last column of the layer table."""
    rows = [
        ([name.rstrip("/") for name in re.findall(r"`([^`]+)`", cells[0])], cells[-1])
        for cells in table_cells(text)
    ]
    packages = {name for names, _ in rows for name in names}
    bosai_cell = next(cell for names, cell in rows if "bosai" in names)
    leaves = {f"bosai.{n}" for n in re.findall(r"`(\w+)`", bosai_cell.split(" but ", 1)[1])}

    def named(segment: str) -> set[str]:
        return {n for n in re.findall(r"`([\w.]+)`", segment) if n.split(".")[0] in packages}

    def tops(names: set[str]) -> set[str]:
        return {n.split(".")[0] for n in names}

    rules = {}
    for names, cell in rows:
        everything = re.match(r"(everything|anything)\b", cell) is not None
        never = tops({n for clause in re.findall(r"never ([^;)]*)", cell) for n in named(clause)})
        own: set[str] = set()
        also: dict[str, set[str]] = {}
        for segment in re.sub(r"never [^;)]*", "", cell).split(";"):
            scoped = re.match(r"\s*`([\w.]+)` also\b(.*)", segment)
            if scoped and scoped.group(1).split(".")[0] in names:
                also[scoped.group(1)] = tops(named(scoped.group(2)))
            else:
                own |= named(segment)
        bosai = {n for n in own if n.startswith("bosai.")}
        if "`bosai` leaves" in cell:
            bosai |= leaves
        elif everything or "bosai" in own:
            bosai = None
        for name in names:
            rules[name] = LayerRule(None if everything else tops(own), bosai, never, also)
    return rules


def imported_names(path: Path) -> set[str]:
    """Like :func:`imported_modules`, with ``from bosai import i18n`` as ``bosai.i18n``."""
    names = set()
    for node in ast.walk(syntax_tree(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "bosai":
                names.update(f"bosai.{alias.name}" for alias in node.names)
            else:
                names.add(node.module)
    return names


def forbidden_arrows(rules: dict[str, LayerRule], root: Path) -> list[str]:
    """``file: module`` for every import under ``root`` that the rules forbid."""
    found = []
    for package, rule in rules.items():
        for path in sorted((root / package).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            extra = {
                n
                for prefix, more in rule.also.items()
                if module == prefix or module.startswith(prefix + ".")
                for n in more
            }
            for name in sorted(imported_names(path)):
                top = name.split(".")[0]
                if top == package or top not in rules:
                    continue
                allowed = (
                    top not in rule.never
                    and (rule.packages is None or top in rule.packages | extra)
                    and (
                        top != "bosai"
                        or rule.bosai is None
                        or any(name == m or name.startswith(m + ".") for m in rule.bosai)
                    )
                )
                if not allowed:
                    found.append(f"{path.relative_to(root)}: {name}")
    return found


def test_imports_follow_the_layer_table():
    """Every import between the packages is an arrow docs/ARCHITECTURE.md's table allows."""
    rules = layer_rules((ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8"))
    assert set(rules) == set(PACKAGES)
    assert forbidden_arrows(rules, ROOT) == []


def test_the_layer_check_finds_a_forbidden_arrow(tmp_path):
    rules = layer_rules((ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8"))
    files = {
        "reports/a.py": "from dashboard.data import x\nfrom compositions import hq_map_state\n",
        "analytics/b.py": "import sql.policy\nfrom bosai import i18n\n",
        "importers/c.py": "from bosai.cli import main\nfrom bosai.vocab import X\n",
        "sql/d.py": "from importers.problems import Problem\n",
        "sql/imports/e.py": "from importers.problems import Problem\n",
        "compositions/f.py": "def f():\n    from reports import council\n",
        "deploy/g.py": "import dashboard\nfrom sql import engine\n",
        "benchmarks/h.py": "from dashboard import map_deck\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert forbidden_arrows(rules, tmp_path) == [
        "sql/d.py: importers.problems",
        "importers/c.py: bosai.cli",
        "analytics/b.py: sql.policy",
        "compositions/f.py: reports",
        "reports/a.py: dashboard.data",
        "deploy/g.py: dashboard",
    ]


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
