"""The artifact store: one interface over a local folder or an S3 bucket/prefix.

Reports, downloaded videos, plans and state objects are written here. Writes are atomic (a local temp file
renamed into place; an S3 PUT is atomic by itself) so a killed run never leaves a half-written artifact that a
later run would trust. Local files get the process umask like any other file the process writes. Keys are
relative, `/`-separated and never start with `/`.
"""

from __future__ import annotations

import glob
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class ArtifactInfo:
    key: str
    size: int
    last_modified: datetime


class ArtifactStore(Protocol):
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        """Write atomically; return the location a person can open (a path or an s3:// URI)."""

    def get_bytes(self, key: str) -> bytes | None:
        """The content, or None when the key does not exist."""

    def delete(self, key: str) -> None: ...

    def list(self, prefix: str = "") -> Iterator[ArtifactInfo]: ...

    def location(self, key: str) -> str: ...


def _check_key(key: str) -> str:
    if not key or key.startswith("/") or ".." in key.split("/"):
        raise ValueError(f"artifact key must be a relative path without '..', got {key!r}")
    return key


class LocalArtifactStore:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def location(self, key: str) -> str:
        return str(self._path(key))

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temp file of this key that is already there was left by a writer killed mid-write (SIGKILL skips the
        # cleanup below): hidden, never read, never expired by retention, so the next write of the key removes it.
        for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            leftover.unlink(missing_ok=True)
        # Created like any other file of the process (mode 0666 less the umask), not with mkstemp's 0600: the folder
        # is often served to people (`reports.link_base_url`) by a web server running as another user.
        tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return str(path)

    def get_bytes(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[ArtifactInfo]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                stat = path.stat()
                yield ArtifactInfo(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))


class S3ArtifactStore:
    def __init__(self, client: Any, bucket: str, prefix: str = ""):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        extra = {"ContentType": content_type} if content_type else {}
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **extra)
        return self.location(key)

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix: str = "") -> Iterator[ArtifactInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for obj in page.get("Contents", []):
                yield ArtifactInfo(obj["Key"][len(self.prefix) :], obj["Size"], obj["LastModified"])
