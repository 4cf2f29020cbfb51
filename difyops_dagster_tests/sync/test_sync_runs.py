"""The sync job against the real stand-in and a real S3 server: the standby dataset ends up mirroring the bucket,
and the active colour moves only after the standby passed every check.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster_tests.receivers import WebhookReceiver

AWKWARD_KEYS = {
    "docs/plain.md": "# plain",
    "docs/with spaces.txt": "spaces in the key",
    "docs/中文 文档.md": "unicode key",
    "docs/team a/report.md": "report of team a",
    "docs/team b/report.md": "report of team b",
    "docs/[regex]+(chars).csv": "a,b\n1,2",
}


def writes(world) -> list[dict]:
    return [
        r
        for r in world.standin.admin.request_log()
        if r["method"] in ("POST", "PATCH", "DELETE") and "/metadata" not in r["path"]
    ]


def check_results(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, bool]:
    return {
        e.check_name: e.passed for e in result.get_asset_check_evaluations() if e.asset_key.to_user_string() == asset
    }


def test_first_run_syncs_blue_and_promotes_it_with_awkward_keys(world):
    for key, body in AWKWARD_KEYS.items():
        world.put(key, body)
    world.put("docs/empty.md", b"")
    world.put("docs/tool.exe", b"MZ")

    result = world.run(prefix="docs/")

    assert result.success
    assert world.active() == "blue"
    assert world.keys_in(world.blue) == sorted(AWKWARD_KEYS)
    assert world.documents(world.green) == []
    names = sorted(d["name"] for d in world.documents(world.blue))
    assert "team a%2Freport.md" in names and "team b%2Freport.md" in names
    listing = result.asset_materializations_for_node("s3_objects")[0].metadata
    assert listing["rejected"].value == 2


def test_runs_alternate_colours_and_an_unchanged_bucket_costs_no_writes(world):
    for i in range(5):
        world.put(f"f{i}.md", f"file {i}")
    assert world.run().success and world.active() == "blue"
    assert world.run().success and world.active() == "green"
    world.standin.admin.clear_request_log()

    assert world.run().success

    assert world.active() == "blue"
    assert writes(world) == []  # blue already mirrored the bucket: nothing is re-uploaded
    assert world.keys_in(world.blue) == world.keys_in(world.green) == [f"f{i}.md" for i in range(5)]


def test_more_than_a_page_changes_and_deletions_are_all_applied(world):
    for i in range(130):
        world.put(f"many/{i:03d}.md", f"doc {i}")
    assert world.run().success
    world.put("many/007.md", "DOC 7")  # same size, new content
    world.s3.delete_object(Bucket=world.bucket, Key="many/100.md")
    world.put("many/new.md", "fresh")
    assert world.run().success  # green: first full sync
    world.standin.admin.clear_request_log()

    assert world.run().success  # blue: only the three changes

    expected = sorted([f"many/{i:03d}.md" for i in range(130) if i != 100] + ["many/new.md"])
    assert world.keys_in(world.blue) == expected
    assert len(writes(world)) == 3
    doc7 = next(d for d in world.documents(world.blue) if d["metadata"]["source_key"] == "many/007.md")
    assert doc7["content_size"] == len("DOC 7")


def test_an_indexing_error_fails_the_checks_and_keeps_the_active_colour(world):
    world.put("good.md", "good")
    world.put("broken.md", "bad")
    world.standin.admin.set_indexing(error_names="^broken")

    result = world.run()

    assert not result.success
    assert world.active() is None
    checks = check_results(result, "synced_dataset_blue")
    assert checks["no_error_documents"] is False and checks["all_files_synced"] is True


def test_a_file_dify_keeps_rejecting_is_reported_and_the_rest_are_synced(world):
    for name in ("a.md", "b.md", "c.md"):
        world.put(name, name)
    world.standin.admin.set_faults([{"path": "create-by-file$", "status": 500, "rate": 1.0, "times": 1}])

    result = world.run(upload_concurrency=1)

    assert not result.success and world.active() is None
    assert len(world.documents(world.blue)) == 2
    failures = result.asset_materializations_for_node("synced_dataset_blue")[0].metadata["failures"].value
    assert len(failures.records) == 1 and "HTTP 500" in failures.records[0].data["error"]
    world.standin.admin.clear_faults()
    assert world.run().success and world.active() == "blue"
    assert world.keys_in(world.blue) == ["a.md", "b.md", "c.md"]


def test_throttling_and_server_errors_on_reads_are_survived(world):
    world.put("a.md", "a")
    world.standin.admin.set_faults(
        [
            {"path": "/documents$", "method": "GET", "status": 429, "retry_after": 0, "times": 1},
            {"path": "/metadata$", "method": "GET", "status": 503, "times": 1},
        ]
    )
    assert world.run().success and world.active() == "blue"


def test_an_emptied_bucket_never_empties_a_dataset(world):
    for i in range(4):
        world.put(f"{i}.md", "x")
    assert world.run().success
    for i in range(4):
        world.s3.delete_object(Bucket=world.bucket, Key=f"{i}.md")
    first, second = world.run(), world.run()
    assert not first.success and not second.success
    assert world.active() == "blue"
    assert len(world.documents(world.blue)) == 4 and world.documents(world.green) == []
    check = next(
        e for e in first.get_asset_check_evaluations() if e.check_name == "deletions_within_limit" and not e.passed
    )
    assert check.metadata["empty_listing"].value is True


def test_a_plan_deleting_more_than_the_ratio_is_refused(world):
    for i in range(10):
        world.put(f"{i}.md", "x")
    assert world.run().success and world.run().success  # both colours hold 10 documents
    for i in range(6):
        world.s3.delete_object(Bucket=world.bucket, Key=f"{i}.md")
    assert not world.run(max_delete_ratio=0.5).success
    assert len(world.documents(world.blue)) == 10 and world.active() == "green"
    assert world.run(max_delete_ratio=0.7).success
    assert len(world.documents(world.blue)) == 4 and world.active() == "blue"


def test_rollback_returns_to_the_previous_colour_and_calls_the_webhook(world):
    world.put("a.md", "a")
    with WebhookReceiver() as hook:
        world.overrides = {"webhook_url": hook.url}
        assert world.run().success and world.run().success
        assert world.active() == "green"
        world.standin.admin.clear_request_log()

        result = world.rollback()

        assert result.success and world.active() == "blue"
        assert writes(world) == []
        events = hook.json_bodies()
        assert [e["event"] for e in events] == ["promoted", "promoted", "rolled_back"]
        assert events[-1]["active"] == {"colour": "blue", "dataset_id": world.blue}
        assert events[-1]["previous"] == {"colour": "green", "dataset_id": world.green}


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
    defs_settings = {"mode": "single", "dataset_id": world.blue, "blue_dataset_id": None, "green_dataset_id": None}
    result = world.run(**defs_settings)
    assert result.success
    assert world.keys_in(world.blue) == ["a.md"]
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"s3_objects", "dify_documents", "sync_plan", "synced_dataset"}
