"""The parts a promotion will wire together, run end to end against the stand-in: the console client reads each kind
of app, `rebind_app` switches it, the client writes it back the way Dify's editor does, and what the app then
serves follows the active colour with its other datasets untouched; the retrieval gate, fed by
`DifyDatasetClient.retrieve`, keeps a standby colour that lost a golden document and passes one that has it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.console import DifyConsoleClient
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.transport import RateLimiter, TransportOptions
from difyops_dagster.sync.app_binding import ColourSwitch, app_places, follows_colour, rebind_app
from difyops_dagster.sync.retrieval_gate import (
    ColourRetrieval,
    GoldenQuery,
    Retrieved,
    evaluate_retrieval,
    retrieval_model_for,
)
from difyops_dagster_tests.dify.conftest import dataset_client

EMAIL, PASSWORD = "ops@example.com", "console-Passw0rd!"
BLUE, GREEN, FAQ = (f"0b1e0000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
PROMOTE, ROLLBACK = ColourSwitch(BLUE, GREEN), ColourSwitch(GREEN, BLUE)


@pytest.fixture
def console(standin) -> Iterator[DifyConsoleClient]:
    standin.admin.set_console_account(EMAIL, PASSWORD)
    options = TransportOptions(max_retries=0, rate_limit_per_second=0)
    client = DifyConsoleClient(
        standin.url, EMAIL, PASSWORD, compat=DifyCompat.parse("1.13.2"), options=options, limiter=RateLimiter(0)
    )
    yield client
    client.close()


def switch(console: DifyConsoleClient, app_id: str, colours: ColourSwitch) -> None:
    """What the promotion's app step will do for one app (without the Dagster around it)."""
    app = console.get_app(app_id)
    if app.uses_workflow:
        draft = console.get_draft_workflow(app_id)
        rebinding = rebind_app(app.mode, draft.graph, colours)
        console.sync_draft_workflow(app_id, draft, rebinding.config)
        console.publish_workflow(app_id, marked_name="difyops switch")
    else:
        rebinding = rebind_app(app.mode, app.model_config, colours)
        console.update_model_config(app_id, rebinding.config)


def served(console: DifyConsoleClient, app_id: str) -> tuple[str, dict]:
    app = console.get_app(app_id)
    config = console.get_published_workflow(app_id).graph if app.uses_workflow else app.model_config
    return app.mode, config


@pytest.mark.parametrize("mode", ["advanced-chat", "workflow", "chat", "completion", "agent-chat"])
def test_a_promotion_then_a_rollback_switch_what_each_kind_of_app_serves(standin, console, mode):
    app_id = standin.admin.create_console_app("support", mode, dataset_ids=[FAQ, BLUE])["id"]
    switch(console, app_id, PROMOTE)
    places = app_places(*served(console, app_id))
    assert follows_colour(places, PROMOTE) and [p.dataset_ids for p in places] == [(FAQ, GREEN)]
    switch(console, app_id, ROLLBACK)
    places = app_places(*served(console, app_id))
    assert follows_colour(places, ROLLBACK) and [p.dataset_ids for p in places] == [(FAQ, BLUE)]


def test_an_app_edited_back_by_hand_is_seen_not_to_follow_and_is_switched_again(standin, console):
    app_id = standin.admin.create_console_app("support", "advanced-chat", dataset_ids=[BLUE])["id"]
    switch(console, app_id, PROMOTE)
    switch(console, app_id, ROLLBACK)  # someone puts it back in the editor
    assert not follows_colour(app_places(*served(console, app_id)), PROMOTE)
    switch(console, app_id, PROMOTE)
    assert follows_colour(app_places(*served(console, app_id)), PROMOTE)


def test_a_draft_edited_between_read_and_write_is_a_named_conflict_and_the_app_keeps_serving_the_old(standin, console):
    app_id = standin.admin.create_console_app("support", "workflow", dataset_ids=[BLUE])["id"]
    draft = console.get_draft_workflow(app_id)
    console.sync_draft_workflow(app_id, draft, draft.graph | {"viewport": {"x": 5, "y": 0, "zoom": 1}})  # a person
    with pytest.raises(DifyError) as conflict:
        console.sync_draft_workflow(app_id, draft, rebind_app("workflow", draft.graph, PROMOTE).config)
    assert conflict.value.code == "draft_workflow_not_sync"
    assert follows_colour(app_places(*served(console, app_id)), ROLLBACK)


GOLDEN = (
    GoldenQuery("how long do refunds take", ("docs/refunds.md",), 3),
    GoldenQuery("shipping zones", ("docs/zones.md",), 3),
)


def colour_results(datasets, dataset_id: str) -> list[ColourRetrieval]:
    settings = datasets.get_dataset(dataset_id).retrieval_model
    results = []
    for query in GOLDEN:
        model = retrieval_model_for(settings, query.top_k, "keyword_search")
        records = datasets.retrieve(dataset_id, query.query, model)
        results.append(
            ColourRetrieval(tuple(Retrieved(r.rank, r.source_key, r.document_name, r.score) for r in records))
        )
    return results


def seed(standin, dataset_id: str, documents: dict[str, str]) -> None:
    for key, text in documents.items():
        standin.admin.add_document(dataset_id, key.rsplit("/", 1)[-1], text, metadata={"source_key": key})


@pytest.mark.parametrize(("keeps_refunds", "passed"), [(True, True), (False, False)])
def test_the_gate_keeps_the_active_colour_when_the_standby_lost_a_golden_document(standin, keeps_refunds, passed):
    datasets = dataset_client(standin)
    active = standin.admin.create_dataset("blue", indexing_technique="economy")["id"]
    standby = standin.admin.create_dataset("green", indexing_technique="economy")["id"]
    both = {"docs/refunds.md": "Refunds take 14 days.", "docs/zones.md": "Shipping zones: EU and US."}
    seed(standin, active, both)
    seed(standin, standby, both if keeps_refunds else {"docs/zones.md": both["docs/zones.md"]})
    verdict = evaluate_retrieval(
        GOLDEN, colour_results(datasets, standby), colour_results(datasets, active), min_hit_rate=1.0, max_drop=0.0
    )
    assert verdict.passed is passed
    assert verdict.table()[0]["standby_hit"] == ("yes" if keeps_refunds else "no")
    assert verdict.table()[0]["active_hit"] == "yes" and verdict.table()[0]["standby_score"] == "n/a"
