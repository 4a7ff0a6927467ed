"""Finding methods, reading declarations without running them, and local-import tracking."""

from __future__ import annotations

import datetime

import pytest
from conftest import ProjectDir, write

from gitax.jobs.methods import MethodError


def test_declarations_are_read_without_running_the_method(proj: ProjectDir) -> None:
    proj.method(
        "parse",
        '''
        """Parse things.

        Longer text."""
        import this_module_does_not_exist  # never imported by reading declarations
        options = dict(filename=str, sep=",", when=datetime.date(2020, 1, 2), xs=[int])
        jobs = ("source", ["many"])
        depend_extra = ()
        def synthesis(job):
            pass
        ''',
    )
    m = proj.project().methods.get("parse")
    assert m.options == {
        "filename": str,
        "sep": ",",
        "when": datetime.date(2020, 1, 2),
        "xs": [int],
    }
    assert m.jobs == {"source": False, "many": True}
    assert m.summary == "Parse things."
    assert m.phases == ("synthesis",)


def test_unknown_method_lists_known_ones(proj: ProjectDir) -> None:
    proj.method("a", "def synthesis(): pass\n")
    with pytest.raises(
        MethodError, match=r"no method 'b': no a_b.py in methods \(known methods: a, and gitax's"
    ):
        proj.project().methods.get("b")


def test_a_name_in_two_folders_names_both(proj: ProjectDir) -> None:
    (proj.root / "gitax.toml").write_text('[gitax]\nmethods = ["m1", "m2"]\n')
    write(proj.root / "m1" / "a_x.py", "def synthesis(): pass\n")
    write(proj.root / "m2" / "a_x.py", "def synthesis(): pass\n")
    with pytest.raises(MethodError, match=r"defined twice: .*m1/a_x.py and .*m2/a_x.py"):
        proj.project().methods.get("x")


@pytest.mark.parametrize(
    "source, message",
    [
        ("datasets = (1,)\ndef synthesis(): pass\n", "`datasets` entries are names"),
        ("datasets = ('d',)\njobs = ('d',)\ndef synthesis(): pass\n", "'d' is both a dataset"),
        ("options = dict(x=compute())\ndef synthesis(): pass\n", r"a_m.py:1: cannot read"),
        ("options = {'name': 1}\ndef synthesis(): pass\n", "'name' is reserved"),
        ("x = 1\n", r"defines none of prepare\(\), analysis\(\), synthesis\(\)"),
        ("depend_extra = ('nope.txt',)\ndef synthesis(): pass\n", "'nope.txt' does not exist"),
        ("depend_extra = ('../../x',)\ndef synthesis(): pass\n", "outside the project"),
        ("def synthesis(:\n", "a_m.py:1: syntax error"),
        ("options = dict(x=set)\ndef synthesis(): pass\n", "cannot read"),
        ("jobs = (3,)\ndef synthesis(): pass\n", "`jobs` entries are names"),
        (
            "e = OptionEnum(str(n) for n in range(10**6))\noptions = dict(e=e)\n"
            "def synthesis(): pass\n",
            r"a_m.py:1: cannot read the declaration `10 \*\* 6`",
        ),
        (
            "options = dict(e=OptionEnum(str(n) for n in range(100000)))\ndef synthesis(): pass\n",
            r"a_m.py:1: the declaration fails: ValueError: range of 100000 items",
        ),
    ],
)
def test_bad_declarations_are_errors_naming_the_file(
    proj: ProjectDir, source: str, message: str
) -> None:
    proj.method("m", source)
    with pytest.raises(MethodError, match=message):
        proj.project().methods.get("m")


def test_sources_include_depend_extra_and_local_imports_recursively(proj: ProjectDir) -> None:
    proj.method(
        "m",
        """
        import os, json
        from helpers import util
        import pkg.sub
        depend_extra = ("table.txt",)
        def synthesis():
            import lazy_helper
        """,
    )
    write(proj.root / "methods" / "table.txt", "1 2 3\n")
    write(proj.root / "methods" / "helpers" / "__init__.py", "")
    write(proj.root / "methods" / "helpers" / "util.py", "from . import deep\n")
    write(proj.root / "methods" / "helpers" / "deep.py", "X = 1\n")
    write(proj.root / "methods" / "lazy_helper.py", "import toplevel\n")
    write(proj.root / "toplevel.py", "Y = 2\n")  # the project root is on sys.path too
    write(proj.root / "pkg" / "__init__.py", "")
    write(proj.root / "pkg" / "sub.py", "")
    m = proj.project().methods.get("m")
    assert [s.relpath for s in m.sources] == [
        "methods/a_m.py",
        "methods/table.txt",
        "methods/helpers/__init__.py",
        "methods/helpers/deep.py",
        "methods/helpers/util.py",
        "methods/lazy_helper.py",
        "pkg/__init__.py",
        "pkg/sub.py",
        "toplevel.py",
    ]
    # What the job process reports as used modules: absolute imports of every Python
    # source, parsed once in the build process (relative ones and data files left out).
    assert m.import_roots() == {"os", "json", "helpers", "pkg", "lazy_helper", "toplevel"}


def test_installed_packages_and_the_store_never_join_the_key(proj: ProjectDir) -> None:
    proj.method("m", "import pytest, click\nfrom gitax import Job\ndef synthesis(): pass\n")
    assert [s.relpath for s in proj.project().methods.get("m").sources] == ["methods/a_m.py"]
