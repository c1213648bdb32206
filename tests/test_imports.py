"""The apps depend one way: verification -> credit -> cases -> aid_portal.

import-linter reads every import of the four packages (module level and inside
functions alike) and checks the contract in pyproject.toml. The second test proves the
check bites: it copies the code, adds one upward import, and expects a refusal.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGES = ["aid_portal", "cases", "credit", "verification"]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [Path(sys.executable).with_name("lint-imports"), "--no-cache", "--no-logo"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def test_the_apps_depend_one_way():
    result = lint_imports(BASE_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_an_upward_import_is_refused(tmp_path):
    for package in PACKAGES:
        shutil.copytree(
            BASE_DIR / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(BASE_DIR / "pyproject.toml", tmp_path)
    selectors = tmp_path / "cases" / "selectors.py"
    selectors.write_text(
        selectors.read_text() + "\nfrom credit.findings.models import Finding  # noqa\n"
    )
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "cases.selectors -> credit.findings.models" in result.stdout, result.stdout


def test_no_import_inside_a_function_dodges_a_cycle():
    """An import inside a function must say why on the line above or beside it, and the
    reason may not be a cycle (those are the imports the contract exists to remove)."""
    unexplained = []
    for package in PACKAGES:
        for path in (BASE_DIR / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            source = path.read_text()
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for inner in ast.walk(node):
                    if not isinstance(inner, ast.Import | ast.ImportFrom):
                        continue
                    reason = _reason_above(lines, inner.lineno)
                    if not reason or "cycle" in reason.replace("not for a cycle", ""):
                        unexplained.append(f"{path.relative_to(BASE_DIR)}:{inner.lineno}")
    assert not unexplained, unexplained


def _reason_above(lines: list[str], lineno: int) -> str:
    """The comments on the import's own line and on the block of imports, comments and
    blank lines right above it (one comment may explain a group of imports)."""
    reason = [lines[lineno - 1].partition("#")[2]]
    index = lineno - 2
    while index >= 0:
        line = lines[index].strip()
        if line.startswith("#"):
            reason.append(line)
        elif line and not line.startswith(("import ", "from ")):
            break
        index -= 1
    return " ".join(reason).strip().lower()
