"""Syncing into parent-child and Q&A datasets.

From Dify 1.9.0 a create or update that names no `doc_form` is taken as `text_model`, and Dify refuses a form that
differs from the dataset's (400 `invalid_param` "doc_form is different from the dataset doc_form."). Many
knowledge bases are parent-child, so the sync sends each dataset's own form with every create and update.
"""

from __future__ import annotations

import pytest

from difyops_dagster_tests.sync.conftest import open_world

# Dagster 1.13 reads the deprecated `InitResourceContext.dagster_run` itself when it initializes a nested resource
# (the hand-off IO manager nests `artifacts`, which nests `s3`); the warning is Dagster's, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:InitResourceContext.dagster_run is deprecated:DeprecationWarning")

HIERARCHICAL_RULE = {
    "mode": "hierarchical",
    "rules": {
        "pre_processing_rules": [],
        "segmentation": {"separator": "\n\n", "max_tokens": 500},
        "parent_mode": "paragraph",
        "subchunk_segmentation": {"separator": "\n", "max_tokens": 200},
    },
}


@pytest.fixture
def forms_world(standin, s3_server, s3_client, bucket, monkeypatch, tmp_path, request):
    with open_world(
        standin, s3_client, bucket, monkeypatch, tmp_path, endpoint_url=s3_server.endpoint_url, doc_form=request.param
    ) as world:
        yield world


@pytest.mark.parametrize("forms_world", ["hierarchical_model", "qa_model"], indirect=True)
def test_creates_and_updates_keep_the_datasets_own_form(forms_world):
    world = forms_world
    world.put("handbook.md", "# Handbook\n\nFirst paragraph.\n\nSecond paragraph.")
    world.put("faq.md", "Q: what?\nA: this.")
    assert world.run().success and world.active() == "blue"
    world.put("handbook.md", "# Handbook\n\nFirst paragraph, revised.")
    world.delete("faq.md")
    assert world.run().success and world.active() == "green"
    world.put("handbook.md", "# Handbook\n\nFirst paragraph, revised twice.")
    assert world.run().success and world.active() == "blue"  # the updates land in blue too
    form = world.standin.admin.state()["datasets"]
    for dataset in form:
        if dataset["id"] in (world.blue, world.green):
            assert {d["doc_form"] for d in dataset["documents"]} <= {dataset["doc_form"]}
    assert world.keys_in(world.blue) == ["handbook.md"] == world.keys_in(world.green)


def test_an_empty_dataset_chunked_hierarchically_becomes_parent_child(world):
    world.put("handbook.md", "# Handbook\n\nFirst paragraph.\n\nSecond paragraph.")
    assert world.run(process_rule=HIERARCHICAL_RULE, indexing_technique="high_quality").success
    blue = next(d for d in world.standin.admin.state()["datasets"] if d["id"] == world.blue)
    assert {d["doc_form"] for d in blue["documents"]} == {"hierarchical_model"}
