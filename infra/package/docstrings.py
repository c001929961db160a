"""Compile the libraries' modules for the package without their docstrings, in place (``x.py`` -> ``x.pyc``).

The libraries ship as bytecode only (``infra.package.finish``), and nothing at
run time reads their docstrings, which are about a seventh of their compressed
bytecode (0.2 MB of the 8 MB budget). ``python -OO`` would drop them too, but it
also drops ``assert`` statements, which some libraries rely on, and its
bytecode is only loaded by an interpreter that runs with ``-OO``. So the
docstring statements are taken out of the syntax tree and the rest compiled as
it is: asserts stay, line numbers stay (tracebacks of library frames keep
their file and line), and the result is an ordinary ``x.pyc`` with
``unchecked-hash`` invalidation, as ``compileall -b`` would write it. A module
that reads its own ``__doc__`` sees ``None``; the package tests import every
function from the package to catch one that cannot take that.

Run by the Lambda runtime's Python with ``-X no_debug_ranges``, like compileall:

    python -X no_debug_ranges -m infra.package.docstrings ROOT TOP [TOP ...]
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from importlib._bootstrap_external import _code_to_hash_pyc  # type: ignore[attr-defined]
from pathlib import Path

LAMBDA_ROOT = "/var/task"
_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def without_docstrings(tree: ast.Module) -> ast.Module:
    """``tree`` with the first-statement string of every module, class and function removed (a ``pass`` if alone)."""
    for node in ast.walk(tree):
        if isinstance(node, _DOCUMENTED) and node.body and _is_docstring(node.body[0]):
            docstring = node.body.pop(0)
            if not node.body:
                node.body.append(ast.copy_location(ast.Pass(), docstring))
    return tree


def compile_in_place(root: Path, path: Path) -> None:
    """``path`` (under ``root``) compiled to ``path + "c"``, named as Lambda sees it (``/var/task/...``)."""
    source = path.read_bytes()
    filename = f"{LAMBDA_ROOT}/{path.relative_to(root).as_posix()}"
    code = compile(without_docstrings(ast.parse(source, filename)), filename, "exec", dont_inherit=True)
    path.with_name(path.name + "c").write_bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), False))


def main(argv: list[str]) -> int:
    root, *tops = (Path(arg) for arg in argv)
    for top in tops:
        found = [root / top] if (root / top).is_file() else sorted((root / top).rglob("*.py"))
        for path in found:
            try:
                compile_in_place(root, path)
            except SyntaxError as exc:
                print(f"cannot compile {path.relative_to(root)}: {exc}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
