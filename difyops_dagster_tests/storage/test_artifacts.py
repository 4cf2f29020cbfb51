"""The artifact store behaves the same on a local folder and on real S3 servers (moto, SeaweedFS): atomic writes,
listing, delete."""

from __future__ import annotations

import os
import stat
import uuid

import pytest

from dify_standin.processes import S3_SERVERS
from difyops_dagster.storage.artifacts import LocalArtifactStore, S3ArtifactStore


@pytest.fixture(params=["local", *S3_SERVERS])
def store(request, tmp_path):
    """A local folder, or a fresh bucket on one of the S3 servers (a param of its own, not `s3_server`: the local
    variant needs no server)."""
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "artifacts")
    client = request.getfixturevalue(f"{request.param}_s3_server").client()
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3ArtifactStore(client, bucket, "reports")


def test_written_bytes_read_back_and_missing_keys_are_none(store):
    location = store.put_bytes("daily/app/2026-11-01.md", b"# report\n")
    assert location.endswith("daily/app/2026-11-01.md")
    assert store.get_bytes("daily/app/2026-11-01.md") == b"# report\n"
    assert store.get_bytes("daily/app/absent.md") is None


def test_listing_filters_by_prefix_and_delete_removes(store):
    store.put_bytes("a/1.csv", b"1")
    store.put_bytes("a/2.csv", b"22")
    store.put_bytes("b/3.csv", b"333")
    assert sorted((i.key, i.size) for i in store.list("a/")) == [("a/1.csv", 1), ("a/2.csv", 2)]
    store.delete("a/1.csv")
    assert [i.key for i in store.list("a/")] == ["a/2.csv"]


def test_overwrite_replaces_whole_content(store):
    store.put_bytes("state.json", b'{"colour": "blue", "padding": "xxxxxxxx"}')
    store.put_bytes("state.json", b'{"colour": "green"}')
    assert store.get_bytes("state.json") == b'{"colour": "green"}'


@pytest.mark.parametrize("key", ["/abs", "../escape", "a/../../b", ""])
def test_keys_that_escape_the_store_are_refused(store, key):
    with pytest.raises(ValueError, match="artifact key"):
        store.put_bytes(key, b"x")


def test_local_writes_leave_no_temporary_files(tmp_path):
    store = LocalArtifactStore(tmp_path)
    for i in range(5):
        store.put_bytes("x/report.json", str(i).encode())
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["report.json"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_local_files_get_the_process_umask_so_a_web_server_can_serve_them(tmp_path, umask, mode):
    store = LocalArtifactStore(tmp_path)
    previous = os.umask(umask)
    try:
        store.put_bytes("daily/bot/bot_daily_2026-11-03.md", b"# report\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "daily/bot/bot_daily_2026-11-03.md").stat().st_mode) == mode
