"""The shape of rules/: no module imports another in a circle, and the deadline
package's modules depend one way, in the order its facade documents.

The import graph is read with `ast`, so every import counts: top-level, inside a
function, and under `if TYPE_CHECKING:` alike. A circle hidden in a function body is
still a circle for whoever reads the code.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules"
# The deadline package's layers, lowest first: a module may import only earlier ones.
DEADLINE_LAYERS = (
    "describe",
    "values",
    "tokens",
    "words",
    "numbers",
    "periods",
    "clauses",
    "recurring",
    "draft",
    "several",
    "parse",
)
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rules_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(RULES.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The rules.* modules that `path` imports, wherever the import statement sits."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from rules.deadline import words" imports the submodule, not the facade.
            names = [
                f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in known
                else node.module
                for alias in node.names
            ]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = rules_modules()
    known = set(modules)
    return {name: imports_of(path, known) - {name} for name, path in modules.items()}


def test_no_module_in_rules_imports_another_in_a_circle() -> None:
    graph = import_graph()
    assert "rules.deadline.parse" in graph  # the walk did find the package
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        pytest.fail(f"import cycle among rules modules: {' -> '.join(exc.args[1])}")
    assert set(order) == set(graph)


def test_the_checker_sees_a_circle_through_a_function_level_import(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("from rules.b import x\n")
    (tmp_path / "b.py").write_text("def f():\n    from rules.a import y\n")
    known = {"rules.a", "rules.b"}
    graph = {
        "rules.a": imports_of(tmp_path / "a.py", known),
        "rules.b": imports_of(tmp_path / "b.py", known),
    }
    with pytest.raises(CycleError):
        list(TopologicalSorter(graph).static_order())


def test_the_deadline_modules_depend_one_way_in_layer_order() -> None:
    graph = import_graph()
    package = {name for name in graph if name.startswith("rules.deadline.")}
    assert package == {f"rules.deadline.{layer}" for layer in DEADLINE_LAYERS}
    for index, layer in enumerate(DEADLINE_LAYERS):
        allowed = {f"rules.deadline.{lower}" for lower in DEADLINE_LAYERS[:index]}
        upward = graph[f"rules.deadline.{layer}"] & (package - allowed)
        assert not upward, f"rules.deadline.{layer} imports a higher layer: {sorted(upward)}"
        assert "rules.deadline" not in graph[f"rules.deadline.{layer}"], (
            f"rules.deadline.{layer} imports the facade, which imports it back"
        )


def test_the_old_flat_deadline_modules_are_gone() -> None:
    assert sorted(path.name for path in RULES.glob("deadline_*.py")) == []


@pytest.mark.parametrize("path", sorted(RULES.rglob("*.py")), ids=lambda p: p.name)
def test_rules_modules_stay_short(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"
