"""exax's `equivalent_hashes`: keep reusing jobs across a cosmetic edit of a method.

A method may declare `equivalent_hashes = {'<verifier>': ('<earlier source hash>', ...)}`.
The source hash is the id gitax gives the method file's bytes (`gitax show JOB` prints
it); the verifier is the same kind of hash of the current file with the whole
`equivalent_hashes = {...}` statement cut out. While the verifier matches, jobs built
from the listed earlier sources count as built from this one (helper modules still key
by their own hashes); the next edit changes the verifier, which voids the equivalence
until someone who has checked the edit writes the new verifier (as exax warns).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from gitax.store.hashing import is_object_id, object_id

NAME = "equivalent_hashes"


class EquivalenceError(ValueError):
    """An `equivalent_hashes` declaration of the wrong shape."""


@dataclass(frozen=True)
class Equivalence:
    """What a method declares, and whether it holds for the source as it is now."""

    verifier: str  # the hash of the source without the declaration, as it is now
    declared: str  # the verifier the declaration names
    hashes: tuple[str, ...]  # earlier source hashes declared equivalent

    @property
    def holds(self) -> bool:
        """Does the declared verifier match the source as it is now?"""
        return self.declared == self.verifier

    @property
    def hint(self) -> str:
        """What to write when it does not hold."""
        return (
            f"{NAME} names verifier {self.declared[:16]}..., but the source without it now "
            f"hashes to {self.verifier}: if this edit changed nothing a job computes, "
            f"write {{'{self.verifier}': {self.hashes!r}}}"
        )


def _statement(tree: ast.Module) -> ast.stmt | None:
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else []
        if isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        if any(isinstance(t, ast.Name) and t.id == NAME for t in targets):
            return stmt
    return None


def _offset(lines: list[bytes], lineno: int, col: int) -> int:
    """Byte offset of (1-based line, byte column): ast's columns count UTF-8 bytes."""
    return sum(len(line) for line in lines[: lineno - 1]) + col


def read_equivalence(source: bytes, tree: ast.Module, value: object) -> Equivalence | None:
    """The method's equivalence (None when it declares none); EquivalenceError if the
    declaration is not {'<verifier>': ('<source hash>', ...)}."""
    stmt = _statement(tree)
    if stmt is None:
        return None
    if not isinstance(value, dict) or len(value) != 1:
        raise EquivalenceError(f"{NAME} must be {{'<verifier>': ('<source hash>', ...)}}")
    ((declared, hashes),) = value.items()
    if isinstance(hashes, str):
        hashes = (hashes,)
    if not isinstance(declared, str) or not isinstance(hashes, (tuple, list)):
        raise EquivalenceError(f"{NAME} must be {{'<verifier>': ('<source hash>', ...)}}")
    for h in hashes:
        if not isinstance(h, str) or not is_object_id(h):
            raise EquivalenceError(
                f"{NAME}: {h!r} is not a source hash (64 hex digits; `gitax show JOB` prints "
                "the hash of the source a job was built from)"
            )
    lines = source.splitlines(keepends=True)
    assert stmt.end_lineno is not None and stmt.end_col_offset is not None
    start = _offset(lines, stmt.lineno, stmt.col_offset)
    end = _offset(lines, stmt.end_lineno, stmt.end_col_offset)
    verifier = object_id("blob", source[:start] + source[end:])
    return Equivalence(verifier, declared, tuple(hashes))


def equivalence_of(source: bytes) -> Equivalence | None:
    """The equivalence a method file declares, read from its bytes alone; None when it
    declares none or cannot be read (the build reports those)."""
    if NAME.encode() not in source:
        return None
    from gitax.jobs.declarations import Invalid, Unsupported, evaluate

    try:
        tree = ast.parse(source)
        stmt = _statement(tree)
        if stmt is None or not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or not stmt.value:
            return None
        return read_equivalence(source, tree, evaluate(stmt.value))
    except (SyntaxError, ValueError, Unsupported, Invalid):
        return None
