"""Reading a method's declarations from its source without running it.

A no-op build must not import every method (and numpy, matplotlib... with it), so the
module-level `options`, `jobs`, `datasets`, `description` and `depend_extra` are evaluated
from the syntax tree by a tiny evaluator that knows literals, `dict(...)`, the option types
and the datetime constructors. Anything beyond that is reported, with the line.
"""

from __future__ import annotations

import ast
import datetime
from dataclasses import dataclass
from typing import Any

DECLARED = ("options", "jobs", "datasets", "description", "depend_extra")
PHASES = ("prepare", "analysis", "synthesis")

_NAMES: dict[str, Any] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "dict": dict,
    "tuple": tuple,
    "datetime": datetime.datetime,
    "date": datetime.date,
    "time": datetime.time,
}
_DATETIME_ATTRS = {"datetime": datetime.datetime, "date": datetime.date, "time": datetime.time}


class Unsupported(Exception):
    """An expression the declaration evaluator does not understand."""

    def __init__(self, node: ast.AST) -> None:
        self.lineno = getattr(node, "lineno", 0)
        super().__init__(ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__)


@dataclass(frozen=True)
class Declarations:
    """What a method's source declares, and which phase functions it defines."""

    values: dict[str, Any]
    phases: tuple[str, ...]
    phase_args: dict[str, tuple[str, ...]]


def _callable(node: ast.expr) -> Any:
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "datetime"
        and node.attr in _DATETIME_ATTRS
    ):
        return _DATETIME_ATTRS[node.attr]
    raise Unsupported(node)


def evaluate(node: ast.expr) -> Any:
    """The value of a declaration expression, or Unsupported."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(evaluate(e) for e in node.elts)
    if isinstance(node, ast.List):
        return [evaluate(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise Unsupported(node)
        return {evaluate(k): evaluate(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    if isinstance(node, (ast.Name, ast.Attribute)):
        return _callable(node)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = evaluate(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return evaluate(node.left) + evaluate(node.right)
    if isinstance(node, ast.Call):
        func = _callable(node.func)
        args = [evaluate(a) for a in node.args]
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise Unsupported(node)
            kwargs[kw.arg] = evaluate(kw.value)
        if func in (dict, list, tuple) or func in _DATETIME_ATTRS.values():
            return func(*args, **kwargs)
    raise Unsupported(node)


class Invalid(Exception):
    """A declaration that can be read, but whose value is an error (`1 + "a"`,
    `date(2023, 13, 1)`)."""

    def __init__(self, node: ast.AST, error: Exception) -> None:
        self.lineno = getattr(node, "lineno", 0)
        super().__init__(f"{type(error).__name__}: {error}")


def _value_of(node: ast.expr) -> Any:
    try:
        return evaluate(node)
    except (TypeError, ValueError, OverflowError, ArithmeticError, RecursionError) as e:
        raise Invalid(node, e) from None


def read_declarations(tree: ast.Module) -> Declarations:
    """Evaluate the module-level declarations and find the phase functions of a method."""
    values: dict[str, Any] = {}
    phases: list[str] = []
    phase_args: dict[str, tuple[str, ...]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name) and target.id in DECLARED:
                    values[target.id] = _value_of(stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if stmt.target.id in DECLARED and stmt.value is not None:
                values[stmt.target.id] = _value_of(stmt.value)
        elif isinstance(stmt, ast.FunctionDef) and stmt.name in PHASES:
            phases.append(stmt.name)
            phase_args[stmt.name] = tuple(a.arg for a in stmt.args.args)
    if "description" not in values:
        doc = ast.get_docstring(tree)
        if doc:
            values["description"] = doc
    return Declarations(values, tuple(p for p in PHASES if p in phases), phase_args)
