"""The retrieval gate decides a promotion: `retrieval_quality` on the standby's `synced_dataset` (issue 17).

The golden queries of `sync.retrieval_checks` go to the stand-in's `POST /v1/datasets/{id}/retrieve` (its keyword
scorer, what a Dify without an embedding model runs) for the standby and the active colour. A standby that no
longer finds a golden source keeps the active colour, and the check's table says, per query, what each colour
found; a standby that still finds it is promoted. Structurally both standbys are perfect (every file there,
indexed): only the gate tells them apart.

On moto only: apart from the colour object, which every other sync test takes on both S3 servers, the gate
touches no S3.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from difyops_dagster_tests.sync.conftest import SyncWorld, open_world

REFUNDS = "# Refunds\n\nA refund is paid within 14 days of the return, to the card the order was paid with.\n"
GOLDEN = {
    "queries": [
        {"query": "When is my refund paid?", "expected": "policies/refunds.md", "top_k": 2},
        {"query": "shipping to Norway", "expected": ["policies/shipping.md"]},
    ],
    "search_method": "keyword_search",
}


@pytest.fixture
def gate_world(standin, moto_s3_server, monkeypatch, tmp_path) -> Iterator[SyncWorld]:
    s3 = moto_s3_server.client()
    bucket = f"gate-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    with open_world(standin, s3, bucket, monkeypatch, tmp_path, endpoint_url=moto_s3_server.endpoint_url) as world:
        world.overrides["retrieval_checks"] = GOLDEN
        world.put("policies/refunds.md", REFUNDS)
        world.put("policies/shipping.md", "# Shipping\n\nWe ship to Norway, Sweden and Denmark in three days.\n")
        yield world


def quality(result):
    (check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "retrieval_quality"]
    return check


def test_a_standby_that_no_longer_finds_a_golden_source_keeps_the_active_colour_with_the_table_per_query(gate_world):
    world = gate_world
    first = world.run()
    assert first.success and world.active() == "blue"
    assert quality(first).passed and quality(first).metadata["active_hit_rate"].value == "not compared"
    world.put("policies/refunds.md", "# Returns\n\nSend the parcel back within 30 days.\n")  # says nothing of refunds

    result = world.run()

    assert not result.success and world.active() == "blue"
    check = quality(result)
    assert not check.passed and check.asset_key.to_user_string() == "synced_dataset_green"
    rows = {r.data["query"]: r.data for r in check.metadata["queries"].value.records}
    refund = rows["When is my refund paid?"]
    assert refund["expected"] == "policies/refunds.md" and refund["top_k"] == "2"
    assert (refund["standby_hit"], refund["standby_found"], refund["standby_rank"]) == (
        "no",
        "0/1",
        "policies/refunds.md: -",
    )
    assert (refund["active_hit"], refund["active_found"], refund["active_rank"]) == (
        "yes",
        "1/1",
        "policies/refunds.md: 1",
    )
    assert refund["standby_score"] == refund["active_score"] == "n/a", "keyword_search scores nothing"
    assert rows["shipping to Norway"]["standby_hit"] == rows["shipping to Norway"]["active_hit"] == "yes"
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert failure.step_key == "synced_dataset_green" and "retrieval_quality: Retrieval failed" in message
    assert "standby hit rate 50%" in message and "active 100%" in message


def test_a_standby_that_still_finds_every_golden_source_is_promoted(gate_world):
    world = gate_world
    assert world.run().success and world.active() == "blue"
    world.put("policies/refunds.md", REFUNDS + "\nA refund for a gift card is paid as store credit.\n")

    result = world.run()

    assert result.success and world.active() == "green"
    check = quality(result)
    assert check.passed and check.metadata["standby_hit_rate"].value == 1.0
    assert check.metadata["active_hit_rate"].value == 1.0


def test_a_drop_within_the_allowed_margin_still_promotes(gate_world):
    world = gate_world
    world.overrides["retrieval_checks"] = {**GOLDEN, "min_hit_rate": 0.5, "max_drop": 0.5}
    assert world.run().success
    world.put("policies/refunds.md", "# Returns\n\nSend the parcel back within 30 days.\n")

    result = world.run()

    assert result.success and world.active() == "green" and quality(result).passed
