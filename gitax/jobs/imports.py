"""Which project-local modules a method imports, followed recursively.

Editing a helper module must re-run the jobs whose methods import it. Imports are read
from the syntax tree (including imports inside functions) and resolved the way the job
process will resolve them: the method's folder first, then the project root. Only files
inside the project count; installed packages are versioned elsewhere.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path


def imported_names(tree: ast.AST) -> list[tuple[int, str, tuple[str, ...]]]:
    """(level, module, imported names) for every import statement in a syntax tree."""
    found: list[tuple[int, str, tuple[str, ...]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((0, alias.name, ()))
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or "", tuple(a.name for a in node.names)))
    return found


def _module_file(base: Path, dotted: str) -> Path | None:
    if not dotted:
        init = base / "__init__.py"
        return init if init.is_file() else None
    parts = dotted.split(".")
    as_file = base.joinpath(*parts[:-1], parts[-1] + ".py")
    if as_file.is_file():
        return as_file
    as_pkg = base.joinpath(*parts, "__init__.py")
    return as_pkg if as_pkg.is_file() else None


def _candidates(level: int, module: str, names: tuple[str, ...]) -> list[str]:
    """Every dotted module that executing the import may load (parents, then children)."""
    parts = module.split(".") if module else []
    dotted = [".".join(parts[: i + 1]) for i in range(len(parts))]
    if level == 0 and not module:
        return []
    dotted += [f"{module}.{n}" if module else n for n in names if n != "*"]
    if level > 0:
        dotted.insert(0, "")  # the package itself: its __init__.py runs
    return dotted


def resolve_imports(path: Path, tree: ast.AST, roots: Iterable[Path], inside: Path) -> set[Path]:
    """The project-local files that the imports in `tree` (the source of `path`) load."""
    found: set[Path] = set()
    root_list = list(roots)
    for level, module, names in imported_names(tree):
        if level > 0:
            base = path.parent
            for _ in range(level - 1):
                base = base.parent
            bases = [base]
        else:
            bases = root_list
        for dotted in _candidates(level, module, names):
            for base in bases:
                hit = _module_file(base, dotted)
                if hit is not None:
                    hit = hit.resolve()
                    if hit.is_relative_to(inside):
                        found.add(hit)
                    break
    found.discard(path.resolve())
    return found


def local_imports(
    start: Path, tree: ast.AST, roots: list[Path], inside: Path, exclude: Iterable[Path] = ()
) -> list[Path]:
    """Every project-local file `start` imports, directly or through other local files."""
    excluded = [e.resolve() for e in exclude]
    seen: set[Path] = set()
    todo = sorted(resolve_imports(start, tree, roots, inside))
    while todo:
        path = todo.pop()
        if path in seen or any(path.is_relative_to(e) for e in excluded):
            continue
        seen.add(path)
        try:
            sub = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError):
            continue  # the job itself will report the syntax error; the file still keys
        todo.extend(sorted(resolve_imports(path, sub, roots, inside) - seen))
    seen.discard(start.resolve())
    return sorted(seen)
