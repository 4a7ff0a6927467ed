"""A remote in S3-compatible object storage (through boto3).

An S3 object appears whole or not at all, so objects and index entries need no temp
names. urd logs are changed by compare-and-swap: read the log and its ETag, merge, and
put it back only if the ETag is unchanged (If-Match; If-None-Match for a new log),
merging again when another writer came first.

Failed requests (throttling, 5xx, dropped connections) are retried by botocore itself, in
its "standard" mode (exponential backoff with jitter and a retry quota), one policy for
every call; AWS_RETRY_MODE / AWS_MAX_ATTEMPTS or ~/.aws/config change it as for any AWS
tool. Only the merge loop above is ours: botocore cannot redo a merge.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gitax.remote.transport import RemoteError, Transport
from gitax.store import layout
from gitax.store.index import format_entry, parse_entry
from gitax.store.reflog import complete_lines
from gitax.store.store import STORE_FORMAT, format_store_version, parse_store_version

CAS_TRIES = 50


class S3Transport(Transport):
    """`s3://bucket/prefix`: a gitax store laid out under a key prefix."""

    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        try:
            import boto3
            import botocore.config
            import botocore.exceptions
        except ImportError:
            raise RemoteError("s3 remotes need boto3: pip install 'gitax[s3]'") from None
        self.url = url
        parts = urlsplit(url)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self._errors = botocore.exceptions
        # A defaults mode, not retries={...}: the user's retry settings still win over it.
        config = botocore.config.Config(defaults_mode="standard")
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url, config=config)
        try:
            self._init_store()
        except self._errors.NoCredentialsError:
            raise RemoteError(
                f"{url}: no S3 credentials (set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials)"
            ) from None
        except self._errors.EndpointConnectionError as e:
            raise RemoteError(f"{url}: cannot connect: {e}") from None

    def _k(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def _code(self, e: Exception) -> str:
        return str(getattr(e, "response", {}).get("Error", {}).get("Code", ""))

    def _get(self, key: str) -> tuple[bytes, str] | None:
        """(body, ETag) of a key, or None."""
        try:
            r = self.client.get_object(Bucket=self.bucket, Key=key)
        except self._errors.ClientError as e:
            if self._code(e) in ("NoSuchKey", "404"):
                return None
            if self._code(e) == "NoSuchBucket":
                raise RemoteError(f"{self.url}: bucket {self.bucket!r} does not exist") from None
            raise RemoteError(f"{self.url}: {e}") from None
        return r["Body"].read(), r["ETag"]

    def _init_store(self) -> None:
        found = self._get(self._k(layout.FORMAT))
        if found is None:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._k(layout.FORMAT),
                Body=format_store_version(STORE_FORMAT),
            )
            return
        try:
            version = parse_store_version(found[0])
        except ValueError:
            raise RemoteError(f"{self.url}: format is not a gitax store format file") from None
        if version != STORE_FORMAT:
            raise RemoteError(f"{self.url}: store format {version} is not supported; upgrade gitax")

    def _list(self, sub: str) -> list[str]:
        """Every key under prefix/sub/, relative to it."""
        base = self._k(sub) + "/"
        out = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base
        ):
            out += [o["Key"][len(base) :] for o in page.get("Contents", [])]
        return out

    def _sharded(self, kind: str) -> set[str]:
        """Ids stored as <folder>/ab/cdef…: one listing (paginated), no probe per id."""
        ids = (layout.parse_relpath(kind, n) for n in self._list(layout.folder(kind)))
        return {i for i in ids if i is not None}

    def list_objects(self) -> set[str]:
        return self._sharded("object")

    def get_object(self, oid: str, dest: Path) -> None:
        try:
            self.client.download_file(
                self.bucket, self._k(layout.relpath("object", oid)), str(dest)
            )
        except self._errors.ClientError:
            raise RemoteError(f"{self.url}: no object {oid}") from None

    def put_object(self, oid: str, src: Path) -> None:
        self.client.upload_file(str(src), self.bucket, self._k(layout.relpath("object", oid)))

    def list_index(self) -> set[str]:
        return self._sharded("index")

    def get_index(self, key: str) -> str | None:
        found = self._get(self._k(layout.relpath("index", key)))
        if found is None:
            return None
        manifest_id = parse_entry(found[0], key)
        if manifest_id is None:
            raise RemoteError(f"{self.url}: index entry {key} is damaged or another job's")
        return manifest_id

    def put_index(self, key: str, manifest_id: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._k(layout.relpath("index", key)),
            Body=format_entry(manifest_id, key),
        )

    def list_logs(self, kind: str) -> list[str]:
        names = (layout.parse_relpath(kind, n) for n in self._list(layout.folder(kind)))
        return sorted(n for n in names if n is not None)

    def read_log(self, kind: str, name: str) -> bytes:
        found = self._get(self._k(layout.relpath(kind, name)))
        return found[0] if found else b""

    def update_log(self, kind: str, name: str, change: Callable[[bytes], bytes]) -> None:
        key = self._k(layout.relpath(kind, name))
        for attempt in range(CAS_TRIES):
            found = self._get(key)
            old, etag = found if found else (b"", None)
            new = change(old)
            if new == old:
                return
            condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=new, **condition)
            except self._errors.ClientError as e:
                if self._code(e) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise RemoteError(f"{self.url}: {e}") from None
                _backoff(attempt)  # another writer came first: merge again
                continue
            # Logs only grow: every later writer merged our lines in. A server whose
            # conditional put is not atomic (moto's, some S3-compatible ones) can lose
            # them between two writers; read back, and merge again if it did.
            now = self._get(key)
            if now is not None and set(complete_lines(new)) <= set(complete_lines(now[0])):
                return
            _backoff(attempt)
        raise RemoteError(f"{self.url}: {key} kept changing; try again")


def _backoff(attempt: int) -> None:
    """Wait before merging again: exponential with full jitter, so writers that collided
    do not collide again in step."""
    time.sleep(random.uniform(0, min(1.0, 0.01 * 2**attempt)))
