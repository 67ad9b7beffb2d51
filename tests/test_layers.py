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
