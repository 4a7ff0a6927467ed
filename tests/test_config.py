"""gitax.toml and finding the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
        ("[gitax]\nmethod = ['x']\n", "unknown key gitax.method; valid keys: input, methods"),
        ("[gitax]\nslices = 'many'\n", "gitax.slices must be a positive integer"),
        ("[gitax]\nslices = 0\n", "gitax.slices must be a positive integer"),
        ("[gitax]\nslices = true\n", "gitax.slices must be a positive integer"),
        ("[gitax]\nmethods = 'm'\n", "gitax.methods must be a list"),
        ("[gitax]\nmethods = []\n", "gitax.methods must be a list"),
        ("[gitax]\nstore = 3\n", "gitax.store must be a folder path"),
        ("[other]\nx = 1\n", r"unknown table \[other\]"),
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
