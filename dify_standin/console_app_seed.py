"""Seeding console apps: the graph or model configuration an app gets when a test names only its datasets.

The shapes are what Dify's editor saves (node `data.type`, `knowledge-retrieval` node data as
`core/workflow/nodes/knowledge_retrieval/entities.py` `KnowledgeRetrievalNodeData`: `query_variable_selector`,
`dataset_ids`, `retrieval_mode`, `multiple_retrieval_config`; model configs with `dataset_configs.datasets.datasets[]
= {"dataset": {"enabled", "id"}}`, `core/app/app_config/easy_ui_based_app/dataset/manager.py`), so that a client
reading them reads what a real Dify returns. `register_console_app` is also what a demo seed would call.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Mapping
from typing import Any

from dify_standin.console_apps import (
    APP_MODES,
    MODEL_CONFIG_MODES,
    WORKFLOW_MODES,
    ConsoleApp,
    ConsoleAppStore,
    ModelConfigRow,
    WorkflowRow,
)

DEFAULT_FEATURES = {
    "opening_statement": "",
    "suggested_questions": [],
    "suggested_questions_after_answer": {"enabled": False},
    "text_to_speech": {"enabled": False},
    "speech_to_text": {"enabled": False},
    "retriever_resource": {"enabled": True},
    "sensitive_word_avoidance": {"enabled": False},
}
MODEL = {"provider": "langgenius/openai/openai", "name": "gpt-4o-mini", "mode": "chat", "completion_params": {}}


def _node(node_id: str, x: int, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "custom",
        "data": {"desc": "", "selected": False, **data},
        "position": {"x": x, "y": 280},
        "positionAbsolute": {"x": x, "y": 280},
        "width": 244,
        "height": 90,
        "sourcePosition": "right",
        "targetPosition": "left",
    }


def _edge(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{source['id']}-source-{target['id']}-target",
        "type": "custom",
        "source": source["id"],
        "sourceHandle": "source",
        "target": target["id"],
        "targetHandle": "target",
        "data": {"sourceType": source["data"]["type"], "targetType": target["data"]["type"], "isInIteration": False},
        "zIndex": 0,
    }


def knowledge_node(node_id: str, title: str, dataset_ids: list[str], query: list[str]) -> dict[str, Any]:
    return _node(
        node_id,
        380,
        {
            "type": "knowledge-retrieval",
            "title": title,
            "query_variable_selector": query,
            "dataset_ids": list(dataset_ids),
            "retrieval_mode": "multiple",
            "multiple_retrieval_config": {"top_k": 4, "score_threshold": None, "reranking_enable": False},
        },
    )


def default_graph(mode: str, dataset_ids: list[str]) -> dict[str, Any]:
    """Start -> Knowledge Retrieval -> LLM -> End (workflow) or Answer (chatflow)."""
    chat = mode == "advanced-chat"
    start = _node(
        "1733000000001",
        80,
        {
            "type": "start",
            "title": "Start",
            "variables": []
            if chat
            else [{"variable": "query", "label": "query", "type": "paragraph", "required": True, "max_length": 4096}],
        },
    )
    query = ["sys", "query"] if chat else [start["id"], "query"]
    knowledge = knowledge_node("1733000000002", "Knowledge Retrieval", dataset_ids, query)
    llm = _node(
        "1733000000003",
        680,
        {
            "type": "llm",
            "title": "LLM",
            "model": MODEL,
            "prompt_template": [{"role": "system", "text": "Answer from {{#context#}}."}],
            "context": {"enabled": True, "variable_selector": [knowledge["id"], "result"]},
            "vision": {"enabled": False},
        },
    )
    if chat:
        answer = "{{#" + llm["id"] + ".text#}}"
        end = _node("1733000000004", 980, {"type": "answer", "title": "Answer", "answer": answer})
    else:
        outputs = [{"variable": "answer", "value_selector": [llm["id"], "text"]}]
        end = _node("1733000000004", 980, {"type": "end", "title": "End", "outputs": outputs})
    nodes = [start, knowledge, llm, end]
    return {
        "nodes": nodes,
        "edges": [_edge(a, b) for a, b in itertools.pairwise(nodes)],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }


def default_model_config(mode: str, dataset_ids: list[str]) -> dict[str, Any]:
    """What the easy-UI editor posts for a chat, completion or agent app with these datasets as its context."""
    agent = mode == "agent-chat"
    return {
        "model": MODEL,
        "pre_prompt": "Answer from the context.",
        "prompt_type": "simple",
        "user_input_form": [{"paragraph": {"label": "query", "variable": "query", "required": True, "default": ""}}]
        if mode == "completion"
        else [],
        "dataset_query_variable": "query" if mode == "completion" else "",
        "opening_statement": "",
        "suggested_questions": [],
        "more_like_this": {"enabled": False},
        "retriever_resource": {"enabled": True},
        "agent_mode": {"enabled": agent, "strategy": "function_call" if agent else "router", "tools": []},
        "dataset_configs": {
            "retrieval_model": "multiple",
            "top_k": 4,
            "reranking_enable": False,
            "datasets": {"datasets": [{"dataset": {"enabled": True, "id": i}} for i in dataset_ids]},
        },
        "file_upload": {"image": {"enabled": False}},
    }


def register_console_app(store: ConsoleAppStore, body: Mapping[str, Any]) -> ConsoleApp:
    """A console app from an admin body (`name`, `mode`; optional `id`, `description`, `dataset_ids`, `graph`,
    `features`, `environment_variables`, `conversation_variables`, `model_config`, `published` = True, `draft` =
    True: False seeds a workflow app as Dify's "create from blank" leaves it until the editor first saves).
    An existing id is replaced. ValueError names what is wrong."""
    mode = str(body.get("mode") or "")
    if not body.get("name") or mode not in APP_MODES:
        raise ValueError(f"a console app needs a name and a mode in {', '.join(APP_MODES)}")
    dataset_ids = [str(i) for i in body.get("dataset_ids") or []]
    now = time.time()
    app = ConsoleApp(
        id=str(uuid.UUID(str(body["id"]))) if body.get("id") else str(uuid.uuid4()),
        name=str(body["name"]),
        mode=mode,
        description=str(body.get("description", "")),
        created_at=now,
    )
    if mode in WORKFLOW_MODES and body.get("draft", True):
        graph = body.get("graph") or default_graph(mode, dataset_ids)
        features = body.get("features") if body.get("features") is not None else dict(DEFAULT_FEATURES)
        if not isinstance(graph, dict) or not isinstance(features, dict):
            raise ValueError("graph and features must be objects")
        app.draft = WorkflowRow(
            id=str(uuid.uuid4()),
            version="draft",
            graph=graph,
            features=features,
            environment_variables=[dict(v) for v in body.get("environment_variables") or []],
            conversation_variables=[dict(v) for v in body.get("conversation_variables") or []],
            created_at=now,
        )
        if body.get("published", True):
            row = app.draft.published_copy(now, "", "")
            app.published.append(row)
            app.workflow_id = row.id
    elif mode in MODEL_CONFIG_MODES:
        config = body.get("model_config") or default_model_config(mode, dataset_ids)
        if not isinstance(config, dict):
            raise ValueError("model_config must be an object")
        app.model_configs.append(ModelConfigRow(str(uuid.uuid4()), dict(config), now, now))
    with store.lock:
        store.apps[app.id] = app
    return app
