"""The modules of workflows/ import each other without a cycle, and never from inside a function to hide one."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "workflows"
# Function-level imports of workflows modules that are there for a reason other than hiding a cycle: none.
ALLOWED_INNER_IMPORTS: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(node: ast.ImportFrom, here: str, is_package: bool) -> str | None:
    if node.level == 0:
        return node.module
    base = here.split(".") if is_package else here.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, bool]]:
    """(imported workflows module, whether the import sits inside a function) for every import in PATH."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inner.update(id(child) for child in ast.walk(node) if child is not node)
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node, name, path.name == "__init__.py")
            if module:
                # `from workflows import tasks` imports the module workflows.tasks
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names]
        for target in targets:
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != "workflows" and target != name:
                found.append((target, id(node) in inner))
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {target for target, _ in _imports(name, path, modules)} for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_modules_of_workflows_import_each_other_without_a_cycle():
    graph = _graph()
    assert "workflows.tasks" in graph and "workflows.permissions" in graph
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle_when_there_is_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_function_imports_a_workflows_module_to_hide_a_cycle():
    modules = _modules()
    inner = sorted((name, target) for name, path in modules.items()
                   for target, in_function in _imports(name, path, modules) if in_function)
    assert [pair for pair in inner if pair not in ALLOWED_INNER_IMPORTS] == []


def test_permissions_depend_only_on_the_models():
    modules = _modules()
    imported = {target for target, _ in _imports("workflows.permissions", modules["workflows.permissions"], modules)}
    # the calendar (itself on the models alone) gives "why" the local date of a reassignment; the vocabulary (on the
    # models, messages and the checklist alone) names the roles in "why"
    assert imported <= {"workflows.models", "workflows.messages", "workflows.errors", "workflows.calendar",
                        "workflows.vocabulary"}
    vocabulary = {target for target, _ in _imports("workflows.vocabulary", modules["workflows.vocabulary"], modules)}
    assert vocabulary <= {"workflows.models", "workflows.messages", "workflows.criteria"}


def test_tasks_and_inbox_do_not_import_each_other():
    graph = _graph()
    assert "workflows.inbox" not in graph["workflows.tasks"]
    assert "workflows.tasks" not in graph["workflows.inbox"]
