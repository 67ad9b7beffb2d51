"""The layering rules of docs/ARCHITECTURE.md, enforced."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_workflows_never_imports_flask():
    code = (
        "import sys, pkgutil, importlib, workflows\n"
        "for m in pkgutil.iter_modules(workflows.__path__): importlib.import_module('workflows.' + m.name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'flask_login', 'flask_sqlalchemy', "
        "'flask_wtf', 'flask_migrate', 'webapp', 'werkzeug'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_engine_package_imports_spiffworkflow():
    engine = ROOT / "workflows" / "engine"
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("workflows", "webapp")
        for path in (ROOT / folder).rglob("*.py")
        if engine not in path.parents and any(n.split(".")[0] == "SpiffWorkflow" for n in _imports(path))
    ]
    assert offenders == []
    assert any("SpiffWorkflow" in n for path in engine.rglob("*.py") for n in _imports(path))


def _import_graph() -> dict[str, set[str]]:
    """Module -> the workflows modules it imports (anywhere in the file), by the AST."""
    modules = {}
    for path in (ROOT / "workflows").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    deps.add(full if full in modules else node.module)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def test_the_engine_and_validation_packages_are_in_no_import_cycle():
    graph = _import_graph()
    owned = [m for m in graph if m.startswith(("workflows.engine", "workflows.validation", "workflows.version"))]
    assert any(m.startswith("workflows.engine.") for m in owned) and any(m.startswith("workflows.validation.")
                                                                         for m in owned)
    for start in owned:
        seen, todo = set(), list(graph[start])
        while todo:
            module = todo.pop()
            assert module != start, f"{start} imports itself through {sorted(seen)}"
            if module not in seen:
                seen.add(module)
                todo.extend(graph[module])
