"""The layers of PRODUCT.md, read from the syntax tree of every module: each imports only
the layers below it, only the git layer imports dulwich, nothing below the CLI prints,
no module reaches into another's private attributes, and docs/design.md names every
module of each layer."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ORDER = ["store", "jobs", "run", "git", "remote", "cli"]
ROOT = Path(__file__).resolve().parent.parent / "gitax"
DESIGN = ROOT.parent / "docs" / "design.md"


def modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def imported(path: Path) -> set[str]:
    """Every module `path` imports, relative imports made absolute, anywhere in it
    (function bodies and TYPE_CHECKING blocks too)."""
    package = ["gitax", *path.relative_to(ROOT).parent.parts]
    found = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            found.add(name)
            found |= {f"{name}.{a.name}" for a in node.names}  # `from gitax import run`
    return found


def layer_of(path: Path) -> str | None:
    part = path.relative_to(ROOT).parts[0]
    return part if part in ORDER else None


def test_imported_reads_relative_imports() -> None:
    probe = ROOT / "jobs" / "probe.py"
    tree.cache_clear()
    try:
        probe.write_text("from ..run import urd\nfrom . import job\nimport dulwich.repo\n")
        assert {"gitax.run.urd", "gitax.jobs.job", "dulwich.repo"} <= imported(probe)
    finally:
        probe.unlink()
        tree.cache_clear()


def test_no_layer_imports_a_layer_above_it() -> None:
    wrong = []
    for path in modules():
        layer = layer_of(path)
        for name in imported(path) if layer else ():
            parts = name.split(".")
            if parts[0] == "gitax" and len(parts) > 1 and parts[1] in ORDER:
                if ORDER.index(parts[1]) > ORDER.index(layer):  # type: ignore[arg-type]
                    wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_only_the_git_layer_imports_dulwich() -> None:
    users = {
        str(p.relative_to(ROOT))
        for p in modules()
        if any(n.split(".")[0] == "dulwich" for n in imported(p))
    }
    assert users and all(u.startswith("git/") for u in users)


def test_nothing_below_the_cli_prints() -> None:
    printing = []
    for path in modules():
        if path.relative_to(ROOT).parts[0] == "cli":
            continue
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.Call):
                called = ast.unparse(node.func)
                if called in ("print", "click.echo", "click.secho", "sys.exit", "exit"):
                    printing.append(f"{path.relative_to(ROOT)}:{node.lineno} {called}")
    assert printing == []


def _own_private_names(module: ast.Module) -> set[str]:
    """The private names a module defines: functions, classes, module names, and
    attributes it sets on `self` or `cls`."""
    names = set()
    for node in ast.walk(module):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)
    return names


def test_no_module_reaches_into_another_modules_private_attributes() -> None:
    allowed = {"os._exit"}  # the documented way out of a forked child
    wrong = []
    for path in modules():
        own = _own_private_names(tree(path))
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.Attribute) and re.match(r"_[^_]", node.attr):
                text = ast.unparse(node)
                if node.attr not in own and text not in allowed:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {text}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gitax"):
                wrong += [
                    f"{path.relative_to(ROOT)}:{node.lineno} imports {a.name}"
                    for a in node.names
                    if re.match(r"_[^_]", a.name)
                ]
    assert wrong == []


def test_design_doc_names_every_module_of_each_layer() -> None:
    text = DESIGN.read_text()
    for layer in ORDER:
        row = re.search(rf"^\| \d {layer} \| `gitax/{layer}/` \|(.*)\|$", text, re.M)
        assert row, f"docs/design.md has no row for the {layer} layer"
        modules_named = re.sub(r"\([^)]*\)", "", row.group(1))  # not what is said of them
        named = set(re.findall(r"`(\w+)`", modules_named))
        there = {p.stem for p in (ROOT / layer).glob("*.py")} - {"__init__"}
        if layer == "cli":  # one module per command: the row names the pattern
            there = {m for m in there if not m.startswith("cmd_")}
        assert there - named == set(), f"docs/design.md's {layer} row does not name them"
        assert named - there == set(), f"docs/design.md's {layer} row names modules not there"


def test_design_doc_names_the_modules_beside_the_layers() -> None:
    text = DESIGN.read_text()
    beside = text[text.index("Beside the layers") :].split("\n\n")[0]
    there = {p.stem for p in ROOT.glob("*.py")}
    assert there - set(re.findall(r"`(\w+)`", beside)) == set()
