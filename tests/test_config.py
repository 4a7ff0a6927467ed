"""gitax.toml and finding the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import gitax, write

from gitax.config import find_root, load_config, parse_config
from gitax.errors import ConfigError, ProjectNotFound


def test_defaults(tmp_path: Path) -> None:
    cfg = parse_config("", tmp_path)
    assert cfg.methods == (tmp_path / "methods",)
    assert cfg.input == tmp_path / "data"
    assert cfg.results == tmp_path / "results"
    assert cfg.store == tmp_path / ".gitax"
    assert cfg.slices == (os.cpu_count() or 1)


def test_values_and_absolute_store(tmp_path: Path) -> None:
    text = '[gitax]\nmethods = ["a", "b"]\nstore = "/srv/shared"\nslices = 3\n'
    cfg = parse_config(text, tmp_path)
    assert cfg.methods == (tmp_path / "a", tmp_path / "b")
    assert cfg.store == Path("/srv/shared")
    assert cfg.slices == 3


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "[gitax]\nmethod = ['x']\n",
            "unknown key gitax.method; valid keys: fetch, input, methods",
        ),
        ("[gitax]\nslices = 'many'\n", "gitax.slices must be an integer from 1 to 1024"),
        ("[gitax]\nslices = 0\n", "gitax.slices must be an integer from 1 to 1024"),
        ("[gitax]\nslices = true\n", "gitax.slices must be an integer from 1 to 1024"),
        ("[gitax]\nslices = 100000\n", "gitax.slices must be an integer from 1 to 1024"),
        ("[gitax]\nstore = ''\n", "gitax.store must be a folder of its own"),
        ("[gitax]\nstore = '.'\n", "gitax.store must be a folder of its own"),
        ("[gitax]\nstore = '..'\n", "gitax.store must be a folder of its own"),
        ("[gitax]\nresults = '../x'\n", "gitax.results must be a folder inside the project"),
        ("[gitax]\nresults = '/tmp'\n", "gitax.results must be a folder inside the project"),
        ("[gitax]\nresults = ''\n", "gitax.results must be a folder inside the project"),
        ("[gitax]\nmethods = 'm'\n", "gitax.methods must be a list"),
        ("[gitax]\nmethods = []\n", "gitax.methods must be a list"),
        ("[gitax]\nstore = 3\n", "gitax.store must be a folder path"),
        ("[other]\nx = 1\n", r"unknown table \[other\]"),
        ("[gitax]\nfetch = 'always'\n", 'gitax.fetch must be "auto" or "never"'),
        ("[remotes.o]\nurl = 3\n", "remotes.o.url must be a URL or path"),
        ("[remotes.o]\nurl = 'x'\nuser = 'me'\n", "unknown key remotes.o.user"),
        ("[remotes.o]\nurl = 'x'\ndefault = 'yes'\n", "remotes.o.default must be true or false"),
        (
            "[remotes.a]\nurl = 'x'\ndefault = true\n[remotes.b]\nurl = 'y'\ndefault = true\n",
            "more than one remote has default = true",
        ),
        ("[gitax\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text, tmp_path, "gitax.toml")


def test_root_is_found_upward(tmp_path: Path) -> None:
    (tmp_path / "gitax.toml").write_text("[gitax]\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == tmp_path.resolve()
    assert load_config(deep).root == tmp_path.resolve()


def test_missing_project_names_the_path_and_fix(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFound, match=rf"{tmp_path}.*gitax init"):
        find_root(tmp_path)


def test_store_path_expands_home(tmp_path: Path) -> None:
    cfg = parse_config('[gitax]\nstore = "~/gitax-store"\n', tmp_path)
    assert cfg.store == Path.home() / "gitax-store"


def test_remotes_and_the_default(tmp_path: Path) -> None:
    from gitax.config import RemoteConfig

    text = (
        '[gitax]\nfetch = "auto"\n\n[remotes.team]\nurl = "/srv/gitax"\ndefault = true\n\n'
        '[remotes.cloud]\nurl = "s3://bucket/p"\nendpoint_url = "http://127.0.0.1:9000"\n'
    )
    cfg = parse_config(text, tmp_path)
    assert cfg.fetch == "auto"
    assert cfg.remote() == RemoteConfig("team", "/srv/gitax", True, None)
    assert cfg.remote("cloud").endpoint_url == "http://127.0.0.1:9000"
    with pytest.raises(
        ConfigError, match=r"no remote 'nope' in gitax.toml \(remotes: cloud, team\)"
    ):
        cfg.remote("nope")
    two = parse_config('[remotes.a]\nurl = "x"\n[remotes.b]\nurl = "y"\n', tmp_path)
    with pytest.raises(ConfigError, match="no default remote"):
        two.remote()


def test_adding_and_removing_remotes_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    from gitax.config import RemoteConfig, add_remote_text, remove_remote_text

    text = "# my settings\n[gitax]\nslices = 2  # two cores\n"
    added = add_remote_text(text, RemoteConfig("team", '/srv/"odd" path', True, None))
    added = add_remote_text(added, RemoteConfig("cloud", "s3://b/p", False, "http://x"))
    cfg = parse_config(added, tmp_path)
    assert cfg.remote().url == '/srv/"odd" path' and cfg.remote("cloud").endpoint_url == "http://x"
    assert added.startswith(text)
    removed = remove_remote_text(added, "team")
    assert set(parse_config(removed, tmp_path).remotes) == {"cloud"}
    assert removed.startswith("# my settings\n[gitax]\nslices = 2  # two cores\n")


def test_removing_a_remote_takes_its_comments_and_keeps_everyone_elses(tmp_path: Path) -> None:
    from gitax.config import remove_remote_text

    text = (
        "# settings\n[gitax]\nslices = 2  # two cores\n\n"
        "[remotes.team]  # the shared disk\nurl = '/srv/x'  # mounted by IT\n# keep in sync\n\n"
        "[remotes.box]  # the build box\nurl = 'ssh://me@box/srv'\n"
    )
    removed = remove_remote_text(text, "team")
    assert "team" not in removed and "shared disk" not in removed and "mounted by IT" not in removed
    assert "[remotes.box]  # the build box" in removed and "slices = 2  # two cores" in removed
    assert set(parse_config(removed, tmp_path).remotes) == {"box"}


def test_remote_add_trusted_and_remove_through_the_cli(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "gitax.toml", "[gitax]  # mine\n")
    out = gitax("remote", "add", "team", str(tmp_path / "r"), "--trusted", "--default", cwd=root)
    assert out.stdout.strip().endswith("(default, trusted)")
    cfg = parse_config((root / "gitax.toml").read_text(), root)
    assert cfg.remote("team").trusted and cfg.remote().name == "team"
    gitax("remote", "remove", "team", cwd=root)
    assert (root / "gitax.toml").read_text() == "[gitax]  # mine\n"
