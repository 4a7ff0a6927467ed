"""Golden hashes: a change here is a format change (docs/format.md)."""

from __future__ import annotations

import datetime
import hashlib

from gitax.jobs.keys import job_id, job_key, key_document
from gitax.store.hashing import canonical_json, from_jsonable, object_id, to_jsonable

SRC = [("methods/a_train.py", "ab" * 32)]


def test_object_id_is_sha256_of_type_nul_content() -> None:
    assert object_id("blob", b"hello") == (
        "b7da690ebce9312567657893e936fe6935d0a52372f2703f02616bbd53eccb0c"
    )
    assert object_id("blob", b"hello") == hashlib.sha256(b"blob\0hello").hexdigest()


def test_canonical_json_is_byte_exact() -> None:
    value = {"b": [1, 1.0, True, None], "a": "é", "d": datetime.date(2023, 1, 5)}
    assert canonical_json(value) == (
        b'{"a":"\xc3\xa9","b":[1,1.0,true,null],"d":{"__gitax__":"date","v":"2023-01-05"}}'
    )


def test_tagged_values_round_trip() -> None:
    value = {
        "t": datetime.datetime(2023, 1, 5, 12, 30),
        "d": datetime.date(2023, 1, 5),
        "h": datetime.time(7, 0),
        "l": [1, "x"],
    }
    assert from_jsonable(to_jsonable(value)) == value


def test_job_key_golden() -> None:
    key = job_key("train", SRC, {"lr": 0.5, "when": datetime.date(2023, 1, 5)}, {"data": "cd" * 32})
    preimage = (
        b'gitax-job-key\0{"format":1,"jobs":{"data":"' + b"cd" * 32 + b'"},"method":"train",'
        b'"options":{"lr":0.5,"when":{"__gitax__":"date","v":"2023-01-05"}},'
        b'"sources":{"methods/a_train.py":"' + b"ab" * 32 + b'"}}'
    )
    assert key == hashlib.sha256(preimage).hexdigest()
    assert key == "86090a40f24b14d3c186fb59e598a3d852de4293f62f5260ee3a2a0dcad88c81"


def test_dict_order_never_matters() -> None:
    a = job_key("m", SRC, {"x": 1, "y": {"p": 1, "q": 2}}, {})
    b = job_key("m", SRC, {"y": {"q": 2, "p": 1}, "x": 1}, {})
    assert a == b


def test_everything_in_the_key_changes_it() -> None:
    base = job_key("m", SRC, {"x": 1}, {"d": "cd" * 32})
    assert job_key("n", SRC, {"x": 1}, {"d": "cd" * 32}) != base
    assert job_key("m", [("methods/a_train.py", "ef" * 32)], {"x": 1}, {"d": "cd" * 32}) != base
    assert job_key("m", SRC + [("h.py", "00" * 32)], {"x": 1}, {"d": "cd" * 32}) != base
    assert job_key("m", SRC, {"x": 2}, {"d": "cd" * 32}) != base
    assert job_key("m", SRC, {"x": 1}, {"d": "ce" * 32}) != base
    assert job_key("m", SRC, {"x": True}, {"d": "cd" * 32}) != base  # True is not 1


def test_key_document_has_a_format_version() -> None:
    assert key_document("m", SRC, {}, {})["format"] == 1


def test_job_id() -> None:
    assert job_id("train", "3f2a9c1e0b7d" + "0" * 52) == "train-3f2a9c1e0b7d"


def test_slices_join_the_key_document_only_when_given() -> None:
    base = job_key("m", SRC, {}, {})
    assert job_key("m", SRC, {}, {}, None) == base
    assert job_key("m", SRC, {}, {}, 2) != base
    assert job_key("m", SRC, {}, {}, 2) != job_key("m", SRC, {}, {}, 3)
    assert key_document("m", SRC, {}, {}, 4)["slices"] == 4
    assert "slices" not in key_document("m", SRC, {}, {})
