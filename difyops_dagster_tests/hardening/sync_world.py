"""The sync side of the fault matrix: a blue/green world whose S3 traffic goes through the fault proxy, seeded so
that one run makes every Dify call the sync has, and the outcome rules every cell is held to.

Seeded state ("change"): green is active and serves `keep.md`, `edit.md` (old content) and `gone.md`; blue, the
standby, holds the same three. The bucket now has `keep.md`, `edit.md` (new content) and `new.md`. Writing blue
therefore lists documents and metadata fields, reads the dataset, deletes `gone.md`, updates `edit.md`, creates
`new.md`, writes their metadata and polls their indexing. The "first" state (nothing anywhere, no colour yet) adds
the creation of the metadata fields.

Outcome rules: a run that succeeded promoted blue, and blue mirrors the bucket (one completed document per object,
with its current fingerprint); a run that failed left the active colour where it was, the active dataset untouched,
no source key twice in the standby, and names the failing call and its code. Either way, a fault-free re-run then
converges (nothing the fault left behind needs a person).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from difyops_dagster.sync.colour import ColourState, promote, save_state
from difyops_dagster.sync.fingerprint import object_fingerprint
from difyops_dagster_tests.sync.conftest import STATE_KEY, SyncWorld

SYNC_SETTINGS = {"indexing_poll_s": 0.05, "indexing_timeout_s": 4, "upload_concurrency": 2}
OLD = {"keep.md": "kept as it is", "edit.md": "the old text", "gone.md": "removed from the bucket"}
NEW = {"keep.md": "kept as it is", "edit.md": "the new, longer text", "new.md": "added to the bucket"}


def bucket_fingerprints(world: SyncWorld) -> dict[str, str]:
    listed = world.s3.list_objects_v2(Bucket=world.bucket).get("Contents", [])
    return {o["Key"]: object_fingerprint(o["ETag"], o["Size"]) for o in listed if not o["Key"].startswith("_difyops/")}


def seed(world: SyncWorld, scenario: str) -> None:
    if scenario == "first":
        world.put("a.md", "first file")
        world.put("b.md", "second file")
        return
    for key, text in OLD.items():
        world.put(key, text)
    old = bucket_fingerprints(world)
    for dataset_id in (world.blue, world.green):
        for key, text in OLD.items():
            world.standin.admin.add_document(
                dataset_id, key, text, metadata={"source_key": key, "fingerprint": old[key]}
            )
    world.delete("gone.md")
    for key, text in NEW.items():
        world.put(key, text)
    at = datetime.now(UTC).isoformat(timespec="seconds")
    save_state(world.s3, world.bucket, STATE_KEY, promote(ColourState(), "green", world.green, at, "seed"))


def snapshot(world: SyncWorld, dataset_id: str) -> list[tuple]:
    return sorted(
        (d["id"], d["name"], d["indexing_status"], tuple(sorted(d["metadata"].items())))
        for d in world.documents(dataset_id)
    )


def duplicated_keys(world: SyncWorld, dataset_id: str) -> list[str]:
    keys = Counter(d["metadata"].get("source_key") or d["name"] for d in world.documents(dataset_id))
    return sorted(k for k, n in keys.items() if n > 1)


def mirror_problems(world: SyncWorld, dataset_id: str) -> list[str]:
    """Why `dataset_id` does not mirror the bucket (empty when it does)."""
    expected = bucket_fingerprints(world)
    documents = world.documents(dataset_id)
    held = {d["metadata"].get("source_key") or f"(untagged) {d['name']}": d for d in documents}
    problems = [f"duplicated: {k}" for k in duplicated_keys(world, dataset_id)]
    problems += [f"missing: {k}" for k in expected if k not in held]
    problems += [f"unexpected: {k}" for k in held if k not in expected]
    problems += [
        f"stale: {k}" for k, d in held.items() if k in expected and d["metadata"].get("fingerprint") != expected[k]
    ]
    problems += [f"{d['indexing_status']}: {k}" for k, d in held.items() if d["indexing_status"] != "completed"]
    return problems
