"""Property-based tests: every parser of an on-disk format, fed anything, either parses or
raises its one error type; every format/parse pair round-trips; options canonicalise."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitax.config import parse_config
from gitax.errors import ConfigError
from gitax.jobs.keys import job_key
from gitax.jobs.manifest import ManifestError, TreeEntry, format_tree, parse_manifest, parse_tree
from gitax.jobs.options import OptionError, resolve_options
from gitax.jobs.resultlock import LockedResult, LockFileError, format_lock, parse_lock
from gitax.jobs.urdlog import JobEntry, Session, UrdError, format_session, parse_line
from gitax.store.hashing import canonical_json, from_jsonable, to_jsonable
from gitax.store.index import parse_entry
from gitax.store.objects import parse_header

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OID = st.text("0123456789abcdef", min_size=64, max_size=64)
PART = st.text(
    st.characters(blacklist_characters="/\\\0\n\r", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
).filter(lambda p: p not in (".", ".."))
PATH = st.lists(PART, min_size=1, max_size=4).map("/".join)
SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.dates()
    | st.datetimes()
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8).filter(lambda k: k != "__gitax__"), inner, max_size=4)
    ),
    max_leaves=12,
)


@SETTINGS
@given(VALUE)
def test_option_values_round_trip_through_the_canonical_form(value) -> None:
    assert from_jsonable(to_jsonable(value)) == value
    assert canonical_json(value) == canonical_json(from_jsonable(to_jsonable(value)))


@SETTINGS
@given(st.dictionaries(st.text(max_size=8).filter(lambda k: k != "__gitax__"), SCALAR, max_size=6))
def test_dict_order_never_changes_a_key(options) -> None:
    reordered = dict(reversed(list(options.items())))
    assert job_key("m", [], options, {}) == job_key("m", [], reordered, {})


@SETTINGS
@given(st.integers(-(2**53), 2**53))
def test_an_int_for_a_float_option_keys_as_the_float(n) -> None:
    a = resolve_options("m", {"x": 0.5}, {"x": n})
    b = resolve_options("m", {"x": 0.5}, {"x": float(n)})
    assert job_key("m", [], a, {}) == job_key("m", [], b, {})


@SETTINGS
@given(st.dictionaries(st.text(max_size=5), st.one_of(SCALAR, st.sets(st.integers())), max_size=3))
def test_option_resolution_accepts_or_says_why(given_options) -> None:
    specs = {"x": 0.5, "n": 3, "s": str, "d": datetime.date(2020, 1, 1), "l": [int]}
    try:
        resolve_options("m", specs, given_options)
    except OptionError as e:
        assert str(e).startswith("m: ")


@SETTINGS
@given(st.dictionaries(PATH, st.tuples(OID, st.integers(0, 2**40), st.booleans()), max_size=5))
def test_trees_round_trip(files) -> None:
    entries = {p: TreeEntry(i, s, x) for p, (i, s, x) in files.items()}
    nested = any(q.startswith(p + "/") for p in entries for q in entries)
    if nested or any(p.split("/")[0] == "OUTPUT" for p in entries):
        with pytest.raises(ManifestError):  # no folder could hold it, or gitax's own name
            format_tree(entries)
        return
    assert parse_tree(format_tree(entries)) == entries


@SETTINGS
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_tree_and_manifest_parsers_refuse_garbage_cleanly(data) -> None:
    for parse in (parse_tree, parse_manifest):
        try:
            parse(data)
        except ManifestError:
            pass


@SETTINGS
@given(st.binary(max_size=120))
def test_header_and_index_parsers_refuse_garbage_cleanly(data) -> None:
    try:
        parse_header(data)
    except ValueError:
        pass
    assert parse_entry(data) is None or len(parse_entry(data) or "") == 64


@SETTINGS
@given(st.text(max_size=60), st.text(max_size=20), st.lists(st.tuples(PART, OID), max_size=4))
def test_urd_session_lines_round_trip_with_any_caption(caption, user, jobs) -> None:
    entries = tuple(
        JobEntry("n", "m", f"m-{k[:12]}", k, b)
        for (_, k), b in zip(jobs, [True, False] * 2, strict=False)
    )
    s = Session("main", "2023-01-05", "2026-01-01T00:00:00", user, caption, "build.py", "", entries)
    line = format_session(s)
    assert line.count(b"\n") == 1 and line.endswith(b"\n")  # one line, always
    assert parse_line(line[:-1]) == s


@SETTINGS
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_urd_parser_refuses_garbage_cleanly(data) -> None:
    try:
        parse_line(data)
    except (ValueError, KeyError, TypeError, UrdError):
        pass


@SETTINGS
@given(st.dictionaries(PATH, st.tuples(OID, OID, st.integers(0, 10**9)), max_size=4))
def test_lock_files_round_trip(results) -> None:
    locked = {
        p: LockedResult(p, "m-aaaaaaaaaaaa", k, "f", b, s, (("a.py", "1" * 40),))
        for p, (k, b, s) in results.items()
    }
    assert parse_lock(format_lock(locked)) == locked


@SETTINGS
@given(st.text(max_size=300))
def test_lock_and_config_parsers_refuse_garbage_cleanly(text) -> None:
    try:
        parse_lock(text)
    except LockFileError:
        pass
    try:
        parse_config(text, Path("/tmp"))
    except ConfigError as e:
        assert str(e).startswith("gitax.toml: ")


@SETTINGS
@given(st.text(min_size=1, max_size=40))
def test_any_remote_url_survives_gitax_toml(url) -> None:
    from gitax.config import RemoteConfig, add_remote_text

    text = add_remote_text("[gitax]\n", RemoteConfig("r", url, True, url))
    cfg = parse_config(text, Path("/tmp"))
    assert cfg.remote("r").url == url and cfg.remote("r").endpoint_url == url
