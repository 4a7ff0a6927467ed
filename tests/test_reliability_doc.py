"""docs/RELIABILITY.md names a test for each promise: every one it names must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_test_named_in_reliability_exists() -> None:
    doc = (ROOT / "docs" / "RELIABILITY.md").read_text()
    named = re.findall(r"`(test_\w+\.py)::(test_\w+)`", doc)
    assert len(named) > 60
    for module, name in named:
        tree = ast.parse((ROOT / "tests" / module).read_text())
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert name in defined, f"docs/RELIABILITY.md names {module}::{name}, which does not exist"
