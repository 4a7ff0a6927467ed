"""A job runs the code its key was computed from, from a clean module state, however it
was forked (from a build that imported other modules, or from a parent job)."""

from __future__ import annotations

import random

from conftest import ProjectDir, write

from gitax.run.build import run_build


def _value(proj: ProjectDir, method: str) -> object:
    return proj.job(method).load()


def test_a_module_the_build_imported_does_not_shadow_the_methods_own(proj: ProjectDir) -> None:
    write(proj.root / "utils.py", "WHO = 'the build script'\n")
    write(proj.root / "methods" / "utils.py", "WHO = 'methods/utils.py'\n")
    proj.method("m", "import utils\ndef synthesis():\n    return utils.WHO\n")
    proj.build_script("import utils\ndef main(urd):\n    urd.build('m')\n")
    run_build(proj.project())
    assert _value(proj, "m") == "methods/utils.py"
    assert "methods/utils.py" in proj.job("m").manifest.sources


def test_a_subjob_runs_its_own_helpers_and_not_its_parents_state(proj: ProjectDir) -> None:
    (proj.root / "gitax.toml").write_text(
        (proj.root / "gitax.toml")
        .read_text()
        .replace('methods = ["methods"]', 'methods = ["methods", "other"]')
    )
    write(proj.root / "methods" / "helper.py", "WHO = 'parent helper'\nCOUNT = [0]\n")
    write(proj.root / "other" / "helper.py", "WHO = 'child helper'\nCOUNT = [0]\n")
    write(proj.root / "shared.py", "SEEN = []\n")
    proj.method(
        "parent",
        """
        import random, helper, shared
        from gitax.subjobs import build
        def synthesis():
            helper.COUNT[0] += 41
            shared.SEEN.append("parent was here")
            random.seed(1)
            return build("child").load()
        """,
    )
    write(
        proj.root / "other" / "a_child.py",
        """
import random, helper, shared
def synthesis():
    return helper.WHO, helper.COUNT[0], list(shared.SEEN), random.random()
""",
    )
    proj.build_script("def main(urd):\n    urd.build('parent')\n")
    run_build(proj.project())
    who, count, seen, rnd = _value(proj, "child")
    assert (who, count, seen) == ("child helper", 0, [])
    random.seed(1)
    assert rnd != random.random()  # a fresh interpreter's generator, not the parent's seed


def test_a_job_runs_the_helper_bytes_that_were_hashed(proj: ProjectDir) -> None:
    """The helper is edited on disk after the key was computed and before the job runs:
    the job still runs the hashed version, so the stored value matches its key."""
    write(proj.root / "methods" / "helper.py", "WHO = 'hashed'\n")
    proj.method("m", "import helper\ndef synthesis():\n    return helper.WHO\n")
    proj.build_script(
        """
        import pathlib
        def main(urd):
            urd.project.methods.get("m")  # the key's sources are read now
            helper = pathlib.Path(urd.project.root, "methods", "helper.py")
            helper.write_text("WHO = 'edited later'\\n")
            urd.build('m')
        """
    )
    run_build(proj.project())
    assert _value(proj, "m") == "hashed"
