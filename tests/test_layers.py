"""The layers of PRODUCT.md: each imports only the layers below it."""

from __future__ import annotations

import re
from pathlib import Path

ORDER = ["store", "jobs", "run", "git", "remote", "cli"]
ROOT = Path(__file__).resolve().parent.parent / "gitax"


def test_no_layer_imports_a_layer_above_it() -> None:
    wrong = []
    for path in ROOT.rglob("*.py"):
        layer = path.relative_to(ROOT).parts[0]
        if layer not in ORDER:
            continue
        for m in re.finditer(r"^\s*(?:from|import) gitax\.(\w+)", path.read_text(), re.M):
            if m.group(1) in ORDER and ORDER.index(m.group(1)) > ORDER.index(layer):
                wrong.append(f"{path.relative_to(ROOT)} imports gitax.{m.group(1)}")
    assert wrong == []


def test_only_the_git_layer_imports_dulwich() -> None:
    users = {
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if re.search(r"^\s*(?:from|import) dulwich", p.read_text(), re.M)
    }
    assert users and all(u.startswith("git/") for u in users)


def test_nothing_below_the_cli_prints() -> None:
    printing = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if not str(p.relative_to(ROOT)).startswith("cli/")
        and re.search(r"^\s*(print\(|click\.echo|sys\.exit\()", p.read_text(), re.M)
    ]
    assert printing == []
