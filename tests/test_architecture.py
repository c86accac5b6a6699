"""The package's shape, checked: no import circle, light start-up paths, one framework registry.

The import graph is read from the source (``ast``), not from ``sys.modules``, so an import
made lazily inside a function counts too: a lazy import can close a circle at run time.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO

PACKAGE = REPO / "src" / "twinaudit"


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the package modules it imports (anywhere in the file, lazily or not)."""
    modules = {module_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                    + ([base] if base else []))
                # "from package import module" imports the module; else the package itself.
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    # Importing a module first imports every package above it.
    for name in modules:
        parent = name.rpartition(".")[0]
        if parent in modules and parent != name:
            graph[name].add(parent)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_has_no_import_circle():
    graph = import_graph()
    # A package's face importing its own modules is not a circle: drop child -> parent edges
    # that only exist because importing a child imports its package.
    cycle = find_cycle({name: {t for t in targets if not name.startswith(t + ".")}
                        for name, targets in graph.items()})
    assert cycle is None, " -> ".join(cycle)


def test_the_circle_finder_finds_a_circle(tmp_path):
    # Teeth for the test above: a planted circle is found.
    package = tmp_path / "twinaudit"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from twinaudit.b import x\n")
    (package / "b.py").write_text("def f():\n    from twinaudit import a\n")
    cycle = find_cycle({name: {t for t in targets if not name.startswith(t + ".")}
                        for name, targets in import_graph(package).items()})
    assert cycle is not None and set(cycle) == {"twinaudit.a", "twinaudit.b"}


def test_the_spec_is_a_leaf_but_for_vocabulary_errors_and_the_gate_rules():
    graph = import_graph()
    allowed = {"twinaudit", "twinaudit.errors", "twinaudit.vocabulary", "twinaudit.spec",
               "twinaudit.spec.sections", "twinaudit.spec.load", "twinaudit.spec.json_schema",
               "twinaudit.toml_files", "twinaudit.gate"}
    for name in ("twinaudit.spec", "twinaudit.spec.sections", "twinaudit.spec.load",
                 "twinaudit.spec.json_schema"):
        assert graph[name] <= allowed, (name, graph[name] - allowed)


LOADED = """
import sys
from twinaudit.spec import load_spec
spec = load_spec({path!r})
heavy = ("torch", "tensorflow", "keras", "pandas", "scipy", "sklearn", "captum", "shap",
         "twinaudit.attribution", "twinaudit.frameworks", "twinaudit.data", "twinaudit.nets")
print(",".join(sorted(name for name in heavy if name in sys.modules)))
"""


@pytest.mark.parametrize("audit", sorted(path.name for path in (REPO / "audits").glob("*.toml")))
def test_validating_a_shipped_audit_imports_nothing_heavy(audit):
    completed = subprocess.run([sys.executable, "-c", LOADED.format(path=str(REPO / "audits"
                                                                              / audit))],
                               capture_output=True, text=True, check=True, timeout=120)
    assert completed.stdout.strip() == ""


def test_the_import_check_sees_a_heavy_import():
    # Teeth: the same check notices pandas when something imports it.
    completed = subprocess.run(
        [sys.executable, "-c", LOADED.format(path=str(REPO / "audits" / "adult.toml"))
         .replace("from twinaudit.spec import load_spec", "import pandas\nfrom twinaudit.spec "
                  "import load_spec")],
        capture_output=True, text=True, check=True, timeout=120)
    assert completed.stdout.strip() == "pandas"


def framework_pairs(path: Path, *, dicts: bool = True) -> list[int]:
    """Lines of literal tuples/lists/sets (and, with ``dicts``, dict displays keyed by) two or
    more framework names."""
    from twinaudit.vocabulary import FRAMEWORKS

    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        items = (node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set)
                 else node.keys if dicts and isinstance(node, ast.Dict) else [])
        names = {item.value for item in items
                 if isinstance(item, ast.Constant) and item.value in FRAMEWORKS}
        if len(names) >= 2:
            lines.append(node.lineno)
    return lines


def test_the_framework_pair_is_written_in_the_registry_only():
    # The package and its tests read the frameworks from the registry. (benchmarks/ keeps a
    # hand-written plain training loop per framework as the speed reference: per framework by
    # design.)
    # Hand-built results documents in tests are keyed by framework (data, not a registry):
    # there only lists of framework names count.
    found = {str(path.relative_to(REPO)): framework_pairs(path, dicts=folder == "src")
             for folder in ("src", "tests") for path in (REPO / folder).rglob("*.py")
             if path.name != "vocabulary.py" and path != Path(__file__)}
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_the_pair_finder_finds_a_pair(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text('FRAMEWORKS = ("torch", "keras")\nother = ["torch"]\n'
                       'MODULES = {"torch": 1, "keras": 2}\n')
    assert framework_pairs(planted) == [1, 3]
    assert framework_pairs(planted, dicts=False) == [1]


def imported_test_modules(path: Path) -> list[str]:
    """Test modules and conftests a file imports (shared code lives in helpers modules)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                   else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        names += [module for module in modules
                  if module.split(".")[-1].startswith("test_") or module == "conftest"]
    return names


def test_no_test_module_imports_another_test_module_or_a_conftest():
    found = {str(path.relative_to(REPO)): imported_test_modules(path)
             for path in (REPO / "tests").rglob("*.py")}
    assert {path: names for path, names in found.items() if names} == {}


def test_the_test_import_finder_finds_one(tmp_path):
    planted = tmp_path / "test_planted.py"
    planted.write_text("from test_report import full_results\nimport conftest\nimport helpers\n")
    assert imported_test_modules(planted) == ["test_report", "conftest"]


def test_tests_mirror_the_package():
    # Every test module lies in the folder of the package it tests (tests/<package>/...).
    packages = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    folders = {path.name for path in (REPO / "tests").iterdir() if path.is_dir()
               and not path.name.startswith((".", "__"))}
    assert folders <= packages, folders - packages
