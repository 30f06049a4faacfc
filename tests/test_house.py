"""The package's layout keeps the pipeline readable: imports point one way, with no circle, and
no module grows past what one reading can hold."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "etiu_worker"
# Lower layers first; a module may import its own layer and the layers before it.
LAYERS = [
    {"errors", "spelling", "logs", "config"},
    {"servicenow", "state"},
    {"engagement"},
    {"playbook"},
    {"actions"},
    {"cycle", "sandbox"},
    {"report"},
    {"cli", "__main__"},
]
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(part for part in parts if part != "__init__")
        found[name] = path
    return found


def imports_of(name: str, path: Path) -> set[str]:
    """The package's own modules that ``name`` imports, at any depth of the file."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    known = modules()
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{target}.{alias.name}".strip(".")
                found.add(candidate if candidate in known else target)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in getattr(node, "names", []):
                full = (node.module + "." + alias.name) if isinstance(node, ast.ImportFrom) and node.module else alias.name
                if full.startswith("etiu_worker."):
                    found.add(full.removeprefix("etiu_worker."))
    return {item for item in found if item in known and item != name}


def graph() -> dict[str, set[str]]:
    return {name: imports_of(name, path) for name, path in modules().items()}


def layer_of(name: str) -> int:
    top = name.split(".")[0] or name
    return next(index for index, layer in enumerate(LAYERS) if top in layer)


def test_no_module_imports_a_later_step_of_the_pipeline():
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in graph().items() for target in targets
        if name and layer_of(target) > layer_of(name)
    )
    assert wrong == []


def test_the_imports_have_no_circle():
    edges = graph()
    seen: dict[str, int] = {}
    circles = []

    def visit(node: str, trail: list[str]) -> None:
        seen[node] = 1
        for target in sorted(edges.get(node, ())):
            if seen.get(target) == 1:
                circles.append(" -> ".join(trail[trail.index(target):] + [target]))
            elif target not in seen:
                visit(target, trail + [target])
        seen[node] = 2

    for node in sorted(edges):
        if node not in seen:
            visit(node, [node])
    assert circles == []


def test_nothing_imports_the_command_line():
    assert sorted(name for name, targets in graph().items()
                  if any(t == "cli" or t.startswith("cli.") for t in targets)
                  and not (name == "cli" or name.startswith("cli.") or name == "__main__")) == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_every_module_has_a_docstring_and_fits_in_one_reading(name):
    path = modules()[name]
    text = path.read_text(encoding="utf-8")
    assert ast.get_docstring(ast.parse(text)) or not text.strip(), f"{path} has no module docstring"
    assert len(text.splitlines()) <= MAX_LINES, f"{path} has {len(text.splitlines())} lines"
