"""The sync job against the real stand-in and a real S3 server: the standby dataset ends up mirroring the bucket.

Seed 000's defects are the cases: keys with spaces, unicode and regex characters; nested keys and the same file
name under two prefixes; more than one page of documents; a same-size change; deletions; an emptied bucket.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

AWKWARD_KEYS = {
    "docs/plain.md": "# plain",
    "docs/with spaces.txt": "spaces in the key",
    "docs/中文 文档.md": "unicode key",
    "docs/team a/report.md": "report of team a",
    "docs/team b/report.md": "report of team b",
    "docs/deep/er/still/notes.html": "<p>nested</p>",
    "docs/[regex]+(chars).csv": "a,b\n1,2",
}


def test_first_run_syncs_blue_and_promotes_it_with_awkward_keys(world):
    for key, body in AWKWARD_KEYS.items():
        world.put(key, body)
    world.put("docs/empty.md", b"")
    world.put("docs/tool.exe", b"MZ")
    world.put("docs/huge.pdf", b"x" * 3000)
    world.put("elsewhere/outside.md", "not under the prefix")

    result = world.run(prefix="docs/", max_file_size_mb=0.002)

    assert result.success
    assert world.active() == "blue"
    assert world.keys_in(world.blue) == sorted(AWKWARD_KEYS)
    assert world.documents(world.green) == []
    names = sorted(d["name"] for d in world.documents(world.blue))
    assert "team a%2Freport.md" in names and "team b%2Freport.md" in names and "中文 文档.md" in names
    listing = result.asset_materializations_for_node("s3_objects")[0].metadata
    reasons = {r.data["key"]: r.data["reason"] for r in listing["rejected_objects"].value.records}
    assert reasons == {
        "docs/empty.md": "empty file",
        "docs/tool.exe": "type not supported: .exe",
        "docs/huge.pdf": "too large: 3,000 bytes > 2,097",
    }


def test_hand_offs_are_json_files_a_person_can_open(world):
    world.put("a.md", "a")
    result = world.run()
    assert result.success
    plan_file = Path(result.asset_materializations_for_node("sync_plan_blue")[0].metadata["handoff"].value)
    body = json.loads(plan_file.read_text())
    assert plan_file.name == "sync_plan_blue.json" and body["kind"] == "sync_plan"
    assert [row[0] for row in body["create"]] == ["a.md"]


def test_runs_alternate_colours_and_an_unchanged_bucket_costs_no_writes(world):
    for i in range(5):
        world.put(f"f{i}.md", f"file {i}")
    assert world.run().success and world.active() == "blue"
    assert world.run().success and world.active() == "green"
    world.standin.admin.clear_request_log()

    assert world.run().success

    assert world.active() == "blue"
    assert world.writes() == []  # blue already mirrored the bucket: nothing is re-uploaded
    assert world.keys_in(world.blue) == world.keys_in(world.green) == [f"f{i}.md" for i in range(5)]


def test_push_all_re_uploads_every_file_into_the_same_documents(world):
    for i in range(3):
        world.put(f"f{i}.md", f"file {i}")
    assert world.run().success and world.run().success
    ids = sorted(d["id"] for d in world.documents(world.blue))
    world.standin.admin.clear_request_log()

    assert world.run(push_all=True).success

    assert len(world.writes()) == 3 and sorted(d["id"] for d in world.documents(world.blue)) == ids


@pytest.mark.slow
def test_more_than_a_page_changes_and_deletions_are_all_applied(world):
    for i in range(130):
        world.put(f"many/{i:03d}.md", f"doc {i}")
    assert world.run().success
    world.put("many/007.md", "DOC 7")  # same size, new content
    world.delete("many/100.md")
    world.put("many/new.md", "fresh")
    assert world.run().success  # green: first full sync
    world.standin.admin.clear_request_log()

    assert world.run().success  # blue: only the three changes

    expected = sorted([f"many/{i:03d}.md" for i in range(130) if i != 100] + ["many/new.md"])
    assert world.keys_in(world.blue) == expected
    assert len(world.writes()) == 3
    doc7 = next(d for d in world.documents(world.blue) if d["metadata"]["source_key"] == "many/007.md")
    assert doc7["content_size"] == len("DOC 7")


def test_an_emptied_bucket_never_empties_a_dataset(world):
    for i in range(4):
        world.put(f"{i}.md", "x")
    assert world.run().success
    for i in range(4):
        world.delete(f"{i}.md")

    first, second = world.run(max_delete_ratio=1.0), world.run(max_delete_ratio=1.0)

    assert not first.success and not second.success
    assert world.active() == "blue"
    assert len(world.documents(world.blue)) == 4 and world.documents(world.green) == []
    guards = {
        e.asset_key.to_user_string(): e
        for e in first.get_asset_check_evaluations()
        if e.check_name == "deletions_within_limit"
    }
    standby = guards["sync_plan_green"]  # blue is active, so green is the colour the run would write
    assert not standby.passed and standby.metadata["empty_listing"].value is True


def test_a_plan_deleting_more_than_the_ratio_is_refused(world):
    for i in range(10):
        world.put(f"{i}.md", "x")
    assert world.run().success and world.run().success  # both colours hold 10 documents
    for i in range(6):
        world.delete(f"{i}.md")
    assert not world.run(max_delete_ratio=0.5).success
    assert len(world.documents(world.blue)) == 10 and world.active() == "green"
    assert world.run(max_delete_ratio=0.7).success
    assert len(world.documents(world.blue)) == 4 and world.active() == "blue"


def test_documents_left_by_a_broken_run_are_repaired(world):
    world.put("a.md", "a")
    world.put("b.md", "b")
    admin = world.standin.admin
    admin.add_document(world.blue, "a.md", "old", metadata={"source_key": "a.md", "fingerprint": "v1:old:1"})
    admin.add_document(world.blue, "a.md", "dup", metadata={"source_key": "a.md", "fingerprint": "v1:old:1"})
    admin.add_document(world.blue, "b.md", "untagged")
    admin.add_document(world.blue, "stray.pdf", "manual")

    assert world.run().success

    assert world.keys_in(world.blue) == ["a.md", "b.md"]
    assert all(d["indexing_status"] == "completed" for d in world.documents(world.blue))


def test_single_mode_syncs_one_dataset_without_colours(world):
    world.put("a.md", "a")
    single = {"mode": "single", "dataset_id": world.blue, "blue_dataset_id": None, "green_dataset_id": None}

    result = world.run(**single)

    assert result.success
    assert world.keys_in(world.blue) == ["a.md"]
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"s3_objects", "dify_documents", "sync_plan", "synced_dataset"}
    assert world.state().active is None  # no colour state in single mode
