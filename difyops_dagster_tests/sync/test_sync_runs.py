"""The sync job against the real stand-in and a real S3 server: the standby dataset ends up mirroring the bucket.

Seed 000's defects are the cases: keys with spaces, unicode and regex characters; nested keys and the same file
name under two prefixes; more than one page of documents; a same-size change; deletions; an emptied bucket.
Issue 13's and 14's: a doubled slash beside the plain key, a run with nothing to sync (it writes, promotes and
triggers nothing), and a run that shows only what it did (the active colour's steps are skipped and keep their
earlier materializations and check results).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import dagster as dg
import pytest

from difyops_dagster.sync.runs import TARGET_TAG, sync_target
from difyops_dagster_tests.sync.conftest import open_world

AWKWARD_KEYS = {
    "docs/plain.md": "# plain",
    "docs/with spaces.txt": "spaces in the key",
    "docs/中文 文档.md": "unicode key",
    "docs/team a/report.md": "report of team a",
    "docs/team b/report.md": "report of team b",
    "docs/deep/er/still/notes.html": "<p>nested</p>",
    "docs/[regex]+(chars).csv": "a,b\n1,2",
}
SLASH = "\u2215"


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
    assert f"team a{SLASH}report.md" in names and f"team b{SLASH}report.md" in names and "中文 文档.md" in names
    said = " ".join(e.message for e in world.instance.all_logs(result.run_id))
    assert "green is not synced in this run: no colour is active yet" in said and "green is the active" not in said
    listing = result.asset_materializations_for_node("s3_objects")[0].metadata
    reasons = {r.data["key"]: r.data["reason"] for r in listing["rejected_objects"].value.records}
    assert reasons == {
        "docs/empty.md": "empty file",
        "docs/tool.exe": "type not supported: .exe",
        "docs/huge.pdf": "too large: 3,000 bytes > 2,097",
    }


def test_a_doubled_slash_beside_the_plain_key_syncs_both_files(standin, moto_s3_server, monkeypatch, tmp_path):
    """`docs//x.md` beside `docs/x.md` once mapped to one name and failed the whole plan (issue 13). On moto, as
    on AWS S3, they are two objects; SeaweedFS's filer folds `//` into `/`, so this case has no SeaweedFS twin."""
    s3 = moto_s3_server.client()
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    with open_world(standin, s3, bucket, monkeypatch, tmp_path, endpoint_url=moto_s3_server.endpoint_url) as world:
        world.put("docs//x.md", "a doubled slash after the prefix")
        world.put("docs/x.md", "the plain key beside it")

        assert world.run(prefix="docs/").success

        names = {d["metadata"]["source_key"]: d["name"] for d in world.documents(world.blue)}
        assert names == {"docs//x.md": f"{SLASH}x.md", "docs/x.md": "x.md"}


def test_hand_offs_are_json_files_a_person_can_open(world):
    world.put("a.md", "a")
    result = world.run()
    assert result.success
    plan_file = Path(result.asset_materializations_for_node("sync_plan_blue")[0].metadata["handoff"].value)
    body = json.loads(plan_file.read_text())
    assert plan_file.name == "sync_plan_blue.json" and body["kind"] == "sync_plan"
    assert [row[0] for row in body["create"]] == ["a.md"]


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_each_change_syncs_the_standby_and_the_other_colour_keeps_its_last_real_materialization(world):
    for i in range(5):
        world.put(f"f{i}.md", f"file {i}")
    first = world.run()
    assert first.success and world.active() == "blue"
    world.put("f0.md", "file 0, edited")
    world.standin.admin.clear_request_log()

    second = world.run()

    assert second.success and world.active() == "green"
    assert materialized(second) == {
        "s3_objects",
        "dify_documents_green",
        "sync_plan_green",
        "synced_dataset_green",
        "active_colour",
    }
    assert {e.asset_key.to_user_string() for e in second.get_asset_check_evaluations()} == {
        "sync_plan_green",
        "synced_dataset_green",
        "active_colour",
    }
    skipped = {e.step_key for e in second.all_events if e.event_type_value == "STEP_SKIPPED"}
    assert skipped == {"sync_plan_blue", "synced_dataset_blue"}
    listed = {r["path"] for r in world.standin.admin.request_log() if r["method"] == "GET"}
    assert not any(world.blue in path for path in listed), "the active colour's dataset is not even read"
    latest = world.instance.get_latest_materialization_event(dg.AssetKey("synced_dataset_blue"))
    assert latest is not None and latest.run_id == first.run_id, "blue keeps the materialization of its real sync"


def test_a_run_with_nothing_to_sync_writes_promotes_and_triggers_nothing(world):
    for i in range(5):
        world.put(f"f{i}.md", f"file {i}")
    assert world.run().success and world.active() == "blue"
    history = world.state().history
    world.standin.admin.clear_request_log()

    result = world.run()

    assert result.success and world.state().history == history, "no promotion, no colour change recorded"
    assert world.standin.admin.request_log() == [], "not a single Dify call"
    assert materialized(result) == {"s3_objects"}
    listing = result.asset_materializations_for_node("s3_objects")[0].metadata
    assert "nothing to sync: the bucket holds exactly what blue serves" in listing["this_run"].value


def test_push_all_re_uploads_every_file_into_the_same_documents(world):
    for i in range(3):
        world.put(f"f{i}.md", f"file {i}")
    assert world.run().success
    world.put("f0.md", "file 0 again")
    assert world.run().success and world.active() == "green"
    ids = sorted(d["id"] for d in world.documents(world.blue))
    world.standin.admin.clear_request_log()

    assert world.run(push_all=True).success

    assert world.active() == "blue"
    assert len(world.writes()) == 3 and sorted(d["id"] for d in world.documents(world.blue)) == ids


@pytest.mark.slow
def test_more_than_a_page_changes_and_deletions_are_all_applied(world):
    for i in range(130):
        world.put(f"many/{i:03d}.md", f"doc {i}")
    assert world.run().success  # blue: all 130
    world.delete("many/100.md")
    assert world.run().success  # green: first full sync of 129
    world.put("many/007.md", "DOC 7")  # same size, new content
    world.put("many/new.md", "fresh")
    world.standin.admin.clear_request_log()

    assert world.run().success  # blue: only the three changes since its last sync

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


def test_a_plan_deleting_more_than_the_ratio_is_refused_and_says_why(world):
    for i in range(10):
        world.put(f"{i}.md", "x")
    assert world.run().success  # blue holds 10 documents
    world.put("10.md", "x")
    assert world.run().success and world.active() == "green"
    for i in range(6):
        world.delete(f"{i}.md")

    refused = world.run(max_delete_ratio=0.5)

    assert not refused.success
    assert len(world.documents(world.blue)) == 10 and world.active() == "green"
    summary = refused.asset_materializations_for_node("sync_plan_blue")[0].metadata["summary"].value
    assert "refused, not applied: the plan deletes 6 of 10 documents (60% > 50%)" in summary
    (failure,) = [e for e in refused.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "deletions_within_limit: the plan deletes 6 of 10 documents" in failure.step_failure_data.error.message
    assert world.run(max_delete_ratio=0.7).success
    assert len(world.documents(world.blue)) == 5 and world.active() == "blue"


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


def test_a_run_of_the_sync_assets_outside_sync_job_is_tagged_as_a_sync_of_its_datasets(world):
    """The UI's "Materialize all" runs the assets in another job: tagged by its first step, it counts as a sync
    of the pair from then on (a later sync waits for it, the queue holds later ones back)."""
    world.put("a.md", "a")
    job = world.defs().resolve_implicit_global_asset_job_def()

    result = job.execute_in_process(
        instance=world.instance, asset_selection=[dg.AssetKey("s3_objects")], raise_on_error=False
    )

    assert result.success
    tags = world.instance.get_run_by_id(result.run_id).tags
    assert tags[TARGET_TAG] == sync_target({"blue": world.blue, "green": world.green})
