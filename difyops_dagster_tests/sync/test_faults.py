"""Dify faults end in a clear report, a failed check where the dataset is wrong, and the active colour unchanged.

Transient faults (429 with Retry-After, 5xx, an upload whose answer timed out) are retried and leave no trace:
uploads are POSTs, but Dify's upsert by name lands a repeated upload on the same document, so no duplicate
appears. Lasting faults (a rejected file, an indexing error, a server that keeps failing) are reported per file,
the other files proceed, and no colour is promoted. A seed-000-style run would have flipped the colour first.
"""

from __future__ import annotations


def checks(result, asset: str = "synced_dataset_blue") -> dict[str, bool]:
    evaluations = result.get_asset_check_evaluations()
    return {e.check_name: e.passed for e in evaluations if e.asset_key.to_user_string() == asset}


def failures(result, asset: str = "synced_dataset_blue") -> dict[str, str]:
    table = result.asset_materializations_for_node(asset)[0].metadata["failures"].value
    return {r.data["source_key"]: r.data["error"] for r in table.records}


def test_an_indexing_error_fails_the_checks_keeps_the_colour_and_is_repaired_later(world):
    world.put("good.md", "good")
    world.put("broken.md", "bad")
    world.standin.admin.set_indexing(error_names="^broken")

    result = world.run()

    assert not result.success and world.active() is None
    assert checks(result) == {
        "all_files_synced": True,
        "matches_listing": True,
        "no_duplicate_documents": True,
        "all_documents_indexed": True,
        "no_error_documents": False,
        "unserved_documents": True,
    }
    world.standin.admin.set_indexing(error_names="")  # "" clears the pattern; None leaves it as it is
    assert world.run().success and world.active() == "blue"
    assert {d["indexing_status"] for d in world.documents(world.blue)} == {"completed"}


def test_files_dify_rejects_are_reported_and_the_rest_are_synced(world):
    world.put("a.md", "a")
    world.put("slides.pptx", "pptx is not in Dify's default ETL")  # widened below, refused by a stock Dify
    world.put("big.md", "b" * 500)
    world.standin.admin.set_upload_limit(400)

    result = world.run(accepted_extensions=["md", "pptx"])

    assert not result.success and world.active() is None
    assert world.keys_in(world.blue) == ["a.md"]
    reported = failures(result)
    assert set(reported) == {"slides.pptx", "big.md"}
    # Dify's answer to a type its ETL does not read is an empty 400: the report names file, extension and code
    assert reported["slides.pptx"].startswith("Dify refused slides.pptx (extension .pptx; HTTP 400, invalid_param)")
    assert "ETL does not take .pptx files" in reported["slides.pptx"]
    assert reported["big.md"].startswith("Dify refused big.md (extension .md; HTTP 400, invalid_param)")
    assert "over its upload size limit" in reported["big.md"]
    assert checks(result)["all_files_synced"] is False and checks(result)["matches_listing"] is False


def test_transient_server_errors_and_throttling_are_retried_without_duplicates(world):
    for name in ("a.md", "b.md", "c.md"):
        world.put(name, name)
    world.standin.admin.set_faults(
        [
            {"path": "/documents$", "method": "GET", "status": 429, "retry_after": 1, "times": 1},
            {"path": "/metadata$", "method": "GET", "status": 503, "times": 1},
            {"path": "create-by-file$", "status": 502, "times": 2},
        ]
    )

    result = world.run(upload_concurrency=1)

    assert result.success and world.active() == "blue"
    assert world.keys_in(world.blue) == ["a.md", "b.md", "c.md"]


def test_an_upload_whose_answer_timed_out_is_retried_onto_the_same_document(world):
    world.put("slow.md", "slow")
    world.dify_overrides = {"read_timeout_s": 1, "max_retries": 0}
    world.standin.admin.set_faults([{"path": "create-by-file$", "latency_ms": 2500, "times": 1}])

    result = world.run()

    assert result.success and world.active() == "blue"
    assert world.keys_in(world.blue) == ["slow.md"]  # Dify finished the first upload; the retry reused it


def test_a_server_that_keeps_failing_is_reported_and_nothing_is_promoted(world):
    world.put("a.md", "a")
    assert world.run().success and world.active() == "blue"
    world.put("b.md", "b")
    world.standin.admin.set_faults([{"path": "create-by-file$", "status": 500}])

    result = world.run()

    assert not result.success and world.active() == "blue"
    assert "HTTP 500" in failures(result, "synced_dataset_green")["a.md"]
    assert "(after 3 attempts)" in failures(result, "synced_dataset_green")["b.md"]
    assert checks(result, "synced_dataset_green")["all_files_synced"] is False


def test_dify_unreachable_fails_the_run_and_keeps_the_colour(world):
    world.put("a.md", "a")
    assert world.run().success and world.active() == "blue"
    world.put("b.md", "b")  # something to sync, so the run talks to Dify
    world.dify_overrides = {"base_url": "http://127.0.0.1:9/v1", "max_retries": 0, "connect_timeout_s": 0.5}

    result = world.run(indexing_timeout_s=1)

    assert not result.success and world.active() == "blue"
    assert world.documents(world.green) == []
