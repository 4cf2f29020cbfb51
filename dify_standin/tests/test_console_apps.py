"""The console routes that rebind an app's knowledge, as Dify's source has them (console_apps_api.py cites each):
a chatflow or workflow is changed by reading its draft, writing it back with the `hash` it was read with (a stale
one is Dify's 409 `draft_workflow_not_sync`), then publishing; users get the published copy only. Chat, completion
and agent apps take a whole new model configuration. Every route sits behind the console login of console_api.py,
and `get_app_model` answers 404 `app_not_found` for an unknown app and for one of another mode."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from dify_standin.demo_seed import DEMO_CHATFLOW_ID, DEMO_DATASETS
from dify_standin.processes import StandinProcess
from dify_standin.tests.conftest import Api

EMAIL, PASSWORD = "ops@example.com", "console-pw-1"
BLUE, GREEN, OTHER = (str(uuid.UUID(int=n)) for n in (1, 2, 3))


class Console:
    """A logged-in console session that sends what each version wants (Bearer <= 1.9.1, cookies + CSRF after)."""

    def __init__(self, api: Api):
        api.admin.set_console_account(EMAIL, PASSWORD)
        self.session, response = api.console_login(EMAIL, PASSWORD)
        tokens = response.json().get("data")
        self.headers = (
            {"Authorization": f"Bearer {tokens['access_token']}"}
            if isinstance(tokens, dict)
            else {"X-CSRF-Token": self.session.cookies["csrf_token"]}
        )
        self.base = api.server.url + "/console/api"

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.session.request(method, self.base + path, headers=headers, timeout=10, **kwargs)

    def draft(self, app_id: str) -> dict:
        response = self.call("GET", f"/apps/{app_id}/workflows/draft")
        assert response.status_code == 200, response.text
        return response.json()

    def sync(self, app_id: str, draft: dict, **changes) -> requests.Response:
        body = {key: draft[key] for key in ("graph", "features", "hash", "environment_variables")}
        body["conversation_variables"] = draft.get("conversation_variables") or []
        return self.call("POST", f"/apps/{app_id}/workflows/draft", json={**body, **changes})


def legacy_tools(dataset_id: str) -> dict:
    """The pre-0.6 agent form: datasets as `agent_mode.tools[] = {"dataset": {...}}` (router strategies only)."""
    return {"enabled": True, "strategy": "router", "tools": [{"dataset": {"enabled": True, "id": dataset_id}}]}


def knowledge_ids(graph: dict) -> list[list[str]]:
    return [n["data"]["dataset_ids"] for n in graph["nodes"] if n["data"]["type"] == "knowledge-retrieval"]


def rebound(graph: dict, dataset_ids: list[str]) -> dict:
    for node in graph["nodes"]:
        if node["data"]["type"] == "knowledge-retrieval":
            node["data"]["dataset_ids"] = dataset_ids
    return graph


@pytest.fixture
def console(api) -> Console:
    return Console(api)


@pytest.mark.parametrize("mode", ["workflow", "advanced-chat", "chat", "completion", "agent-chat"])
def test_app_detail_tells_the_mode_and_the_model_config_only_for_model_config_apps(api, console, mode):
    app = api.admin.create_console_app("bot", mode, dataset_ids=[BLUE])
    detail = console.call("GET", f"/apps/{app['id']}").json()
    assert detail["id"] == app["id"] and detail["mode"] == mode
    if mode in ("workflow", "advanced-chat"):
        assert detail["model_config"] is None and detail["workflow"]["id"] == app["workflow_id"]
    else:
        datasets = detail["model_config"]["dataset_configs"]["datasets"]["datasets"]
        assert datasets == [{"dataset": {"enabled": True, "id": BLUE}}] and detail["workflow"] is None


def test_an_unknown_app_is_app_not_found_and_a_non_uuid_is_flasks_html_404(api, console):
    missing = console.call("GET", f"/apps/{uuid.uuid4()}/workflows/draft")
    assert (missing.status_code, missing.json()["code"], missing.json()["message"]) == (
        404,
        "app_not_found",
        "App not found.",
    )
    assert console.call("GET", "/apps/not-a-uuid").headers["Content-Type"].startswith("text/html")


def test_every_app_route_needs_the_console_login(api, console):
    app = api.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE])
    for method, path in [("GET", ""), ("GET", "/workflows/draft"), ("POST", "/workflows/publish")]:
        response = requests.request(method, f"{console.base}/apps/{app['id']}{path}", timeout=5)
        assert (response.status_code, response.json()["code"]) == (401, "unauthorized")


def test_routes_of_another_mode_are_app_not_found_naming_the_modes_they_serve(api, console):
    chat = api.admin.create_console_app("chat", "chat", dataset_ids=[BLUE])
    flow = api.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE])
    draft = console.call("GET", f"/apps/{chat['id']}/workflows/draft").json()
    assert draft["code"] == "app_not_found"
    assert draft["message"] == "App mode is not in the supported list: {'advanced-chat', 'workflow'}"
    config = console.call("POST", f"/apps/{flow['id']}/model-config", json={"model": {}})
    assert config.status_code == 404 and "'chat'" in config.json()["message"]


@pytest.mark.parametrize("mode", ["workflow", "advanced-chat"])
def test_a_synced_draft_reaches_users_only_once_published(api, console, mode):
    app = api.admin.create_console_app("flow", mode, dataset_ids=[BLUE, OTHER])
    draft = console.draft(app["id"])
    assert draft["hash"] == app["hash"] and knowledge_ids(draft["graph"]) == [[BLUE, OTHER]]
    synced = console.sync(app["id"], draft, graph=rebound(draft["graph"], [GREEN, OTHER]))
    assert synced.status_code == 200 and synced.json()["result"] == "success"
    assert synced.json()["hash"] == console.draft(app["id"])["hash"] != draft["hash"]
    served = console.call("GET", f"/apps/{app['id']}/workflows/publish").json()
    assert knowledge_ids(served["graph"]) == [[BLUE, OTHER]]

    published = console.call("POST", f"/apps/{app['id']}/workflows/publish", json={"marked_name": "green"})
    assert published.json()["result"] == "success" and isinstance(published.json()["created_at"], int)
    served = console.call("GET", f"/apps/{app['id']}/workflows/publish").json()
    assert knowledge_ids(served["graph"]) == [[GREEN, OTHER]] and served["marked_name"] == "green"
    assert served["id"] != app["workflow_id"] and served["version"] != "draft"
    assert console.call("GET", f"/apps/{app['id']}").json()["workflow"]["id"] == served["id"]


def test_a_stale_hash_is_draft_workflow_not_sync_and_changes_nothing(api, console):
    app = api.admin.create_console_app("flow", "advanced-chat", dataset_ids=[BLUE])
    read = console.draft(app["id"])
    assert console.sync(app["id"], read, graph=rebound(read["graph"], [OTHER])).status_code == 200  # a hand edit
    stale = console.sync(app["id"], read, graph=rebound(read["graph"], [GREEN]))
    assert (stale.status_code, stale.json()["code"]) == (409, "draft_workflow_not_sync")
    assert stale.json()["message"] == "Workflow graph might have been modified, please refresh and resubmit."
    assert knowledge_ids(console.draft(app["id"])["graph"]) == [[OTHER]]
    without = console.sync(app["id"], read, hash=None)
    assert without.status_code == 409


def test_a_never_published_app_answers_a_workflow_of_nulls(api, console):
    app = api.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE], published=False)
    served = console.call("GET", f"/apps/{app['id']}/workflows/publish")
    assert served.status_code == 200 and served.json()["id"] is None and served.json()["graph"] is None
    assert served.json()["created_by"] == {"id": None, "name": None, "email": None}
    assert console.call("GET", f"/apps/{app['id']}").json()["workflow"] is None


def test_an_app_without_a_draft_answers_difys_errors_until_its_first_sync_creates_one(api, console):
    app = api.admin.create_console_app("blank", "workflow", draft=False)
    missing = console.call("GET", f"/apps/{app['id']}/workflows/draft")
    assert (missing.status_code, missing.json()["code"], missing.json()["message"]) == (
        404,
        "draft_workflow_not_exist",
        "Draft workflow need to be initialized.",
    )
    unpublishable = console.call("POST", f"/apps/{app['id']}/workflows/publish", json={})
    assert (unpublishable.status_code, unpublishable.json()["message"]) == (400, "No valid workflow found.")
    graph = {"nodes": [], "edges": []}
    first = console.call("POST", f"/apps/{app['id']}/workflows/draft", json={"graph": graph, "features": {}})
    assert first.status_code == 200 and console.draft(app["id"])["hash"] == first.json()["hash"]


def test_secret_environment_variables_survive_a_sync_only_when_sent_as_hidden(api, console):
    secret = {"id": "v1", "name": "api_token", "value": "sk-live-0123456789", "value_type": "secret"}
    plain = {"id": "v2", "name": "region", "value": "eu", "value_type": "string"}
    app = api.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE], environment_variables=[secret, plain])
    draft = console.draft(app["id"])
    shown = {v["name"]: v["value"] for v in draft["environment_variables"]}
    assert shown == {"api_token": "*" * 20, "region": "eu"}

    hidden = [
        {**v, "value": "[__HIDDEN__]"} if v["value_type"] == "secret" else v for v in draft["environment_variables"]
    ]
    assert console.sync(app["id"], draft, environment_variables=hidden).status_code == 200
    stored = {v["name"]: v["value"] for v in api.admin.console_app(app["id"])["draft"]["environment_variables"]}
    assert stored == {"api_token": "sk-live-0123456789", "region": "eu"}

    echoed = console.draft(app["id"])
    assert console.sync(app["id"], echoed).status_code == 200  # the mask sent back as it was shown
    stored = {v["name"]: v["value"] for v in api.admin.console_app(app["id"])["draft"]["environment_variables"]}
    assert stored["api_token"] == "*" * 20

    emptied = console.draft(app["id"])
    body = {"graph": emptied["graph"], "features": emptied["features"], "hash": emptied["hash"]}
    assert console.call("POST", f"/apps/{app['id']}/workflows/draft", json=body).status_code == 200
    assert api.admin.console_app(app["id"])["draft"]["environment_variables"] == []


def test_a_draft_sync_takes_json_or_text_plain_json_and_refuses_other_bodies(api, console):
    app = api.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE])
    draft = console.draft(app["id"])
    body = {"graph": draft["graph"], "features": draft["features"], "hash": draft["hash"]}
    text = console.call(
        "POST", f"/apps/{app['id']}/workflows/draft", data=json.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert text.status_code == 200
    form = console.call("POST", f"/apps/{app['id']}/workflows/draft", data={"graph": "x"})
    assert (form.status_code, form.json()["code"]) == (415, "unsupported_media_type")
    listed = console.call("POST", f"/apps/{app['id']}/workflows/draft", json=[1])
    assert (listed.status_code, listed.json()) == (400, {"message": "Invalid JSON data"})


MISSING = "Missing required parameter in the JSON body"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.7.2", {"code": "invalid_param", "message": MISSING, "params": "graph"}),
        ("1.9.1", {"errors": {"graph": MISSING}, "message": "Input payload validation failed"}),
    ],
)
def test_a_draft_without_a_graph_is_refused_by_reqparse_before_1_10(api_for, version, expected):
    api = api_for(version)
    console = Console(api)
    app = api.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE])
    response = console.call("POST", f"/apps/{app['id']}/workflows/draft", json={"features": {}})
    assert (response.status_code, response.json()) == (400, expected)


def test_a_draft_without_a_graph_is_a_pydantic_validation_error_from_1_10(api, console):
    app = api.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE])
    response = console.call("POST", f"/apps/{app['id']}/workflows/draft", json={"features": {}})
    assert response.status_code == 400 and response.json()["code"] == "invalid_param"
    assert response.json()["message"].startswith("1 validation error for SyncDraftWorkflowPayload\ngraph\n")


@pytest.mark.parametrize(("version", "pipeline"), [("1.7.2", False), ("1.9.1", True), ("1.13.2", True)])
def test_workflow_json_gains_rag_pipeline_variables_and_full_masks_from_1_9(api_for, version, pipeline):
    api = api_for(version)
    console = Console(api)
    secret = {"id": "v1", "name": "api_token", "value": "sk-live-0123456789", "value_type": "secret"}
    app = api.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE], environment_variables=[secret])
    draft = console.draft(app["id"])
    assert ("rag_pipeline_variables" in draft) is pipeline
    assert draft["environment_variables"][0]["value"] == ("*" * 20 if pipeline else "sk-liv" + "*" * 12 + "89")


@pytest.mark.parametrize(
    ("version", "message"),
    [("1.9.1", "Marked name cannot exceed 20 characters"), ("1.13.2", "1 validation error for PublishWorkflowPayload")],
)
def test_a_marked_name_over_20_characters_is_invalid_param(api_for, version, message):
    api = api_for(version)
    console = Console(api)
    app = api.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE])
    refused = console.call("POST", f"/apps/{app['id']}/workflows/publish", json={"marked_name": "n" * 21})
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_param")
    assert refused.json()["message"].startswith(message)
    assert len(api.admin.console_app(app["id"])["published"]) == 1


def test_a_model_config_post_replaces_the_whole_configuration(api, console):
    app = api.admin.create_console_app("bot", "chat", dataset_ids=[BLUE, OTHER])
    config = console.call("GET", f"/apps/{app['id']}").json()["model_config"]
    config["dataset_configs"]["datasets"]["datasets"][0]["dataset"]["id"] = GREEN
    posted = console.call("POST", f"/apps/{app['id']}/model-config", json={**config, "not_a_config_key": 1})
    assert posted.json() == {"result": "success"}
    stored = api.admin.console_app(app["id"])
    assert stored["model_config_count"] == 2 and "not_a_config_key" not in stored["model_config"]
    shown = console.call("GET", f"/apps/{app['id']}").json()["model_config"]["dataset_configs"]["datasets"]
    assert [d["dataset"]["id"] for d in shown["datasets"]] == [GREEN, OTHER]


@pytest.mark.parametrize(
    ("mode", "change", "message"),
    [
        ("chat", {"model": None}, "model must be of object type"),
        ("chat", {"dataset_configs": "all"}, "dataset_configs must be of object type"),
        ("completion", {"dataset_query_variable": ""}, "Dataset query variable is required when dataset is exist"),
        ("agent-chat", {"agent_mode": legacy_tools(GREEN)}, "Dataset ID does not exist, please check your permission."),
        ("agent-chat", {"agent_mode": legacy_tools("kb")}, "id in dataset must be of UUID type"),
    ],
)
def test_a_model_config_dify_refuses_is_invalid_param_with_difys_message(api, console, mode, change, message):
    app = api.admin.create_console_app("bot", mode, dataset_ids=[BLUE])
    config = {**console.call("GET", f"/apps/{app['id']}").json()["model_config"], **change}
    response = console.call("POST", f"/apps/{app['id']}/model-config", json=config)
    assert (response.status_code, response.json()["code"], response.json()["message"]) == (
        400,
        "invalid_param",
        message,
    )
    assert api.admin.console_app(app["id"])["model_config_count"] == 1


def test_a_legacy_agent_dataset_tool_naming_an_existing_dataset_is_accepted(api, console):
    dataset = api.dataset("kb")
    app = api.admin.create_console_app("agent", "agent-chat")
    config = console.call("GET", f"/apps/{app['id']}").json()["model_config"]
    config["agent_mode"] = {
        "enabled": True,
        "strategy": "router",
        "tools": [{"dataset": {"enabled": True, "id": dataset}}],
    }
    assert console.call("POST", f"/apps/{app['id']}/model-config", json=config).json() == {"result": "success"}


def test_the_bearer_console_of_1_9_1_serves_the_app_routes_too(api_for):
    api = api_for("1.9.1")
    console = Console(api)
    assert "Authorization" in console.headers
    app = api.admin.create_console_app("flow", "advanced-chat", dataset_ids=[BLUE])
    assert knowledge_ids(console.draft(app["id"])["graph"]) == [[BLUE]]


def test_the_demo_seeds_a_chatflow_reading_the_blue_dataset():
    with StandinProcess(extra_args=("--demo",)) as server:
        app = server.admin.console_app(DEMO_CHATFLOW_ID)
    assert (app["name"], app["mode"]) == ("support-chat", "advanced-chat")
    published = next(row for row in app["published"] if row["id"] == app["workflow_id"])
    assert knowledge_ids(published["graph"]) == [[DEMO_DATASETS["kb-blue"]]]
