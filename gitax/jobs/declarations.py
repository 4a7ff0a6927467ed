"""Reading a method's declarations from its source without running it.

A no-op build must not import every method (and numpy, matplotlib... with it), so the
module-level `options`, `jobs`, `datasets`, `description` and `depend_extra` are evaluated
from the syntax tree by a tiny evaluator that knows literals, `dict(...)`, the option types,
the datetime constructors and exax's option markers (`OptionEnum`, `JobWithFile`...), and
the module-level names assigned such values before (`abc = OptionEnum('a b c')`).
Anything beyond that is reported, with the line.
"""

from __future__ import annotations

import ast
import datetime
from dataclasses import dataclass
from typing import Any

from gitax.jobs.optiontypes import (
    OptionDefault,
    OptionEnum,
    OptionString,
    RequiredOption,
)

DECLARED = ("options", "jobs", "datasets", "description", "depend_extra", "equivalent_hashes")
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
    "timedelta": datetime.timedelta,
    "OptionEnum": OptionEnum,
    "OptionString": OptionString,
    "RequiredOption": RequiredOption,
    "OptionDefault": OptionDefault,
}
_DATETIME_ATTRS = {
    "datetime": datetime.datetime,
    "date": datetime.date,
    "time": datetime.time,
    "timedelta": datetime.timedelta,
}
_CONSTRUCTORS = (
    dict,
    list,
    tuple,
    *_DATETIME_ATTRS.values(),
    OptionEnum,
    RequiredOption,
    OptionDefault,
)
_MODULES = ("extras", "gitax", "accelerator")  # `extras.OptionEnum`, `gitax.extras.X`


def _withfile() -> Any:
    from gitax.jobs.withfile import JobWithFile  # reads stored jobs: only when declared

    return JobWithFile


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


@dataclass(frozen=True)
class _Unreadable:
    """A module-level name whose value the evaluator could not read."""

    error: Exception


def _name(node: ast.expr, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        if node.id in names:
            if isinstance(names[node.id], _Unreadable):
                raise names[node.id].error  # where the name was assigned, with its line
            return names[node.id]
        if node.id in _NAMES:
            return _NAMES[node.id]
        if node.id == "JobWithFile":
            return _withfile()
        raise Unsupported(node)
    assert isinstance(node, ast.Attribute)
    base = node.value
    if isinstance(base, ast.Name) and base.id == "datetime" and node.attr in _DATETIME_ATTRS:
        return _DATETIME_ATTRS[node.attr]
    if isinstance(base, (ast.Name, ast.Attribute)) and ast.unparse(base).split(".")[0] in _MODULES:
        if node.attr in _NAMES and node.attr[0].isupper() or node.attr == "JobWithFile":
            return _name(ast.Name(node.attr), {})
    value = evaluate(base, names)
    if isinstance(value, OptionEnum):
        try:
            return getattr(value, node.attr)  # `enum.member`
        except AttributeError:
            raise Unsupported(node) from None
    raise Unsupported(node)


MAX_ITEMS = 10_000  # a comprehension in a declaration is a list of names, not a computation


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_ITEMS:
        raise ValueError(f"range of {len(r)} items in a declaration (at most {MAX_ITEMS})")
    return r


# Functions a declaration may call: pure, and quick for the values they can get here.
_PURE: dict[str, Any] = dict(
    range=_range, chr=chr, ord=ord, len=len, sorted=sorted, str=str, int=int
)


def _comprehension(node: ast.GeneratorExp | ast.ListComp, names: dict[str, Any]) -> Any:
    """`[f(x) for x in <literal or range> if cond]`, one `for`, a plain name."""
    if len(node.generators) != 1:
        raise Unsupported(node)
    gen = node.generators[0]
    if not isinstance(gen.target, ast.Name) or gen.is_async:
        raise Unsupported(node)
    items = evaluate(gen.iter, names)
    if not isinstance(items, (list, tuple, range, str)) or len(items) > MAX_ITEMS:
        raise Unsupported(node)
    out = []
    for item in items:
        inner = {**names, gen.target.id: item}
        if all(evaluate(cond, inner) for cond in gen.ifs):
            out.append(evaluate(node.elt, inner))
    return out


def evaluate(node: ast.expr, names: dict[str, Any] | None = None) -> Any:
    """The value of a declaration expression, or Unsupported; `names` are module-level
    names assigned earlier."""
    names = names or {}
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(evaluate(e, names) for e in node.elts)
    if isinstance(node, ast.List):
        return [evaluate(e, names) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise Unsupported(node)
        return {
            evaluate(k, names): evaluate(v, names)  # type: ignore[arg-type]
            for k, v in zip(node.keys, node.values, strict=True)
        }
    if isinstance(node, (ast.Name, ast.Attribute)):
        return _name(node, names)
    if isinstance(node, ast.Subscript):
        value = evaluate(node.value, names)
        if isinstance(value, OptionEnum):
            try:
                return value[evaluate(node.slice, names)]  # `enum['member']`, `enum['c-d']`
            except KeyError:
                raise Unsupported(node) from None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = evaluate(node.operand, names)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return evaluate(node.left, names) + evaluate(node.right, names)
    if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
        return _comprehension(node, names)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id in _PURE and node.func.id not in names:
            func: Any = _PURE[node.func.id]
        elif isinstance(node.func, (ast.Name, ast.Attribute)):
            func = _name(node.func, names)
        else:
            raise Unsupported(node)
        if func is OptionString:
            func = OptionString.__call__
        elif func not in _CONSTRUCTORS and func not in _PURE.values():
            raise Unsupported(node)
        args = [evaluate(a, names) for a in node.args]
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise Unsupported(node)
            kwargs[kw.arg] = evaluate(kw.value, names)
        return func(*args, **kwargs)
    raise Unsupported(node)


class Invalid(Exception):
    """A declaration that can be read, but whose value is an error (`1 + "a"`,
    `date(2023, 13, 1)`)."""

    def __init__(self, node: ast.AST, error: Exception) -> None:
        self.lineno = getattr(node, "lineno", 0)
        super().__init__(f"{type(error).__name__}: {error}")


def _value_of(node: ast.expr, names: dict[str, Any]) -> Any:
    try:
        return evaluate(node, names)
    except (TypeError, ValueError, OverflowError, ArithmeticError, RecursionError) as e:
        raise Invalid(node, e) from None


def _is_marker_call(node: ast.expr, names: dict[str, Any]) -> bool:
    """Is this `OptionEnum(...)`, or a member of one or of a name holding one: a value
    declarations may refer to by name? (Other module-level code is never evaluated.)"""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Call):
        node = node.func
        if isinstance(node, ast.Attribute):
            return node.attr == "OptionEnum"
        return isinstance(node, ast.Name) and node.id == "OptionEnum"
    return False


def read_declarations(tree: ast.Module) -> Declarations:
    """Evaluate the module-level declarations and find the phase functions of a method."""
    values: dict[str, Any] = {}
    names: dict[str, Any] = {}  # other module-level names, for declarations to refer to
    phases: list[str] = []
    phase_args: dict[str, tuple[str, ...]] = {}
    for stmt in tree.body:
        targets: list[ast.expr] = []
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets = [stmt.target]
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            assert isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None
            if target.id in DECLARED:
                values[target.id] = _value_of(stmt.value, names)
            else:
                names.pop(target.id, None)
                if _is_marker_call(stmt.value, names):
                    try:
                        names[target.id] = _value_of(stmt.value, names)
                    except (Unsupported, Invalid) as e:
                        names[target.id] = _Unreadable(e)  # an error only if referred to
        if isinstance(stmt, ast.FunctionDef) and stmt.name in PHASES:
            phases.append(stmt.name)
            phase_args[stmt.name] = tuple(a.arg for a in stmt.args.args)
    if "description" not in values:
        doc = ast.get_docstring(tree)
        if doc:
            values["description"] = doc
    return Declarations(values, tuple(p for p in PHASES if p in phases), phase_args)
