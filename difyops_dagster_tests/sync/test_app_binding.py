"""A colour switch changes only the sync's two dataset ids in an app: knowledge-retrieval nodes of a workflow or
chatflow graph, the context (`dataset_configs`) and legacy knowledge tools of a chat / completion / agent model
configuration. Every other dataset keeps its place, a place naming both colours ends up with the active one once,
the input is never mutated, and an app with no place naming either colour is a named `BindingError`."""

from __future__ import annotations

import copy

import pytest

from difyops_dagster.sync.app_binding import (
    BindingError,
    ColourSwitch,
    app_places,
    follows_colour,
    rebind_app,
    rebind_graph,
    rebind_model_config,
)

BLUE, GREEN, FAQ, LEGAL = "blue-id", "green-id", "faq-id", "legal-id"
PROMOTE = ColourSwitch(old=BLUE, new=GREEN)
ROLLBACK = ColourSwitch(old=GREEN, new=BLUE)


def knowledge(node_id: str, title: str, *dataset_ids: str) -> dict:
    data = {
        "type": "knowledge-retrieval",
        "title": title,
        "dataset_ids": list(dataset_ids),
        "retrieval_mode": "multiple",
    }
    return {"id": node_id, "type": "custom", "data": data}


def graph(*nodes: dict) -> dict:
    start = {"id": "start", "data": {"type": "start", "title": "Start"}}
    return {"nodes": [start, *nodes], "edges": [{"source": "start", "target": "kr"}], "viewport": {"zoom": 1}}


def chat_config(*dataset_ids: str, tools: list | None = None) -> dict:
    return {
        "model": {"provider": "openai", "name": "gpt-4o-mini"},
        "pre_prompt": "Answer.",
        "agent_mode": {"enabled": tools is not None, "strategy": "router", "tools": tools or []},
        "dataset_configs": {
            "retrieval_model": "multiple",
            "top_k": 4,
            "datasets": {"datasets": [{"dataset": {"enabled": True, "id": i}} for i in dataset_ids]},
        },
    }


def context_ids(config: dict) -> list[str]:
    return [e["dataset"]["id"] for e in config["dataset_configs"]["datasets"]["datasets"]]


def test_a_promotion_replaces_the_old_colour_and_leaves_other_datasets_in_place():
    before = graph(knowledge("kr", "Handbook", FAQ, BLUE, LEGAL), knowledge("kr2", "Legal only", LEGAL))
    result = rebind_graph(before, PROMOTE)
    nodes = {n["id"]: n["data"].get("dataset_ids") for n in result.config["nodes"]}
    assert nodes == {"start": None, "kr": [FAQ, GREEN, LEGAL], "kr2": [LEGAL]}
    row = {
        "where": "node kr",
        "title": "Handbook",
        "before": f"{FAQ}, {BLUE}, {LEGAL}",
        "after": f"{FAQ}, {GREEN}, {LEGAL}",
    }
    assert [r.as_row() for r in result.replacements] == [row]
    assert result.config["edges"] == before["edges"] and result.config["viewport"] == before["viewport"]


def test_the_input_graph_is_never_mutated():
    before = graph(knowledge("kr", "Handbook", BLUE))
    snapshot = copy.deepcopy(before)
    rebind_graph(before, PROMOTE)
    assert before == snapshot


def test_a_node_naming_both_colours_ends_with_the_active_one_once():
    result = rebind_graph(graph(knowledge("kr", "Both", GREEN, FAQ, BLUE)), PROMOTE)
    assert result.config["nodes"][1]["data"]["dataset_ids"] == [GREEN, FAQ]


def test_an_app_already_on_the_new_colour_changes_nothing_and_follows():
    on_green = graph(knowledge("kr", "Handbook", GREEN, FAQ))
    result = rebind_graph(on_green, PROMOTE)
    assert not result.changed and result.config == on_green
    assert follows_colour(app_places("workflow", on_green), PROMOTE)
    assert not follows_colour(app_places("workflow", on_green), ROLLBACK)


def test_a_rollback_is_the_same_switch_the_other_way():
    promoted = rebind_graph(graph(knowledge("kr", "Handbook", BLUE, FAQ)), PROMOTE).config
    assert rebind_graph(promoted, ROLLBACK).config["nodes"][1]["data"]["dataset_ids"] == [BLUE, FAQ]


def test_an_app_reading_neither_colour_is_a_binding_error_naming_what_it_reads():
    with pytest.raises(BindingError, match="no knowledge-retrieval node names dataset blue-id or green-id") as error:
        rebind_graph(graph(knowledge("kr", "Legal", LEGAL)), PROMOTE)
    assert "places with datasets: Legal" in str(error.value)
    with pytest.raises(BindingError, match=r"places with datasets: none"):
        rebind_graph(graph(), PROMOTE)
    assert not follows_colour(app_places("advanced-chat", graph(knowledge("kr", "Legal", LEGAL))), PROMOTE)


def test_a_graph_without_nodes_is_a_binding_error():
    with pytest.raises(BindingError, match="no `nodes` list"):
        rebind_graph({"edges": []}, PROMOTE)


def test_nodes_that_do_not_retrieve_knowledge_are_left_alone_even_if_they_mention_a_colour():
    llm = {"id": "llm", "data": {"type": "llm", "title": "LLM", "dataset_ids": [BLUE]}}
    result = rebind_graph(graph(knowledge("kr", "Handbook", BLUE), llm), PROMOTE)
    assert result.config["nodes"][2]["data"]["dataset_ids"] == [BLUE]


def test_a_chat_apps_context_is_switched_keeping_order_enabled_flags_and_other_settings():
    config = chat_config(FAQ, BLUE)
    config["dataset_configs"]["datasets"]["datasets"][0]["dataset"]["enabled"] = False
    result = rebind_model_config(config, PROMOTE)
    assert context_ids(result.config) == [FAQ, GREEN]
    assert result.config["dataset_configs"]["datasets"]["datasets"][0]["dataset"]["enabled"] is False
    assert result.config["dataset_configs"]["top_k"] == 4 and result.config["pre_prompt"] == "Answer."
    assert [(r.where, r.title, r.before, r.after) for r in result.replacements] == [
        ("dataset_configs", "Context", (FAQ, BLUE), (FAQ, GREEN))
    ]
    assert context_ids(config) == [FAQ, BLUE]


def test_a_context_naming_both_colours_keeps_one_entry_for_the_active_one():
    assert context_ids(rebind_model_config(chat_config(BLUE, FAQ, GREEN), PROMOTE).config) == [GREEN, FAQ]


def test_legacy_agent_knowledge_tools_are_switched_and_a_duplicate_dropped():
    tools = [{"dataset": {"enabled": True, "id": BLUE}}, {"wikipedia": {"enabled": True}}, {"dataset": {"id": GREEN}}]
    result = rebind_model_config(chat_config(tools=tools), PROMOTE)
    assert result.config["agent_mode"]["tools"] == [{"dataset": {"enabled": True, "id": GREEN}}, tools[1]]
    assert [(r.where, r.before, r.after) for r in result.replacements] == [
        ("agent_mode.tools[0]", (BLUE,), (GREEN,)),
        ("agent_mode.tools[2]", (GREEN,), ()),
    ]


def test_rebind_app_dispatches_on_the_mode_and_refuses_an_unknown_one():
    assert rebind_app("agent-chat", chat_config(BLUE), PROMOTE).changed
    assert rebind_app("advanced-chat", graph(knowledge("kr", "K", BLUE)), PROMOTE).changed
    with pytest.raises(BindingError, match="app mode 'agent' has no datasets to switch"):
        rebind_app("agent", chat_config(BLUE), PROMOTE)
    with pytest.raises(BindingError, match="no dataset of the model configuration names"):
        rebind_app("chat", chat_config(FAQ), PROMOTE)


def test_follows_needs_the_new_colour_and_no_trace_of_the_old_one():
    assert follows_colour(app_places("chat", chat_config(GREEN, FAQ)), PROMOTE)
    assert not follows_colour(app_places("chat", chat_config(GREEN, BLUE)), PROMOTE)
    tools = [{"dataset": {"enabled": True, "id": BLUE}}]
    assert not follows_colour(app_places("agent-chat", chat_config(GREEN, tools=tools)), PROMOTE)


def test_a_switch_needs_two_different_ids():
    with pytest.raises(ValueError, match="two different dataset ids"):
        ColourSwitch(BLUE, BLUE)
